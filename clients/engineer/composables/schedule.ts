// The day and week views of the appointments (主页): the tasks in progress
// with a visit time, by Shanghai day, in the order of their time.
import type { Schemas } from '@instrument/shared'
import { weekDays } from '@/utils/time'

type Task = Schemas['OrderSummary']

/** "2026-12-05T10:30:00+08:00" → "2026-12-05" (the API's times are +08:00) */
export function dayOf(iso: string): string {
  return iso.slice(0, 10)
}

export function timeOf(iso: string): string {
  return iso.slice(11, 16)
}

export function appointments(tasks: Task[]): Task[] {
  return tasks
    .filter((task) => task.state === 'in_progress' && task.appointment)
    .sort((a, b) => Date.parse(a.appointment!) - Date.parse(b.appointment!))
}

export function onDay(tasks: Task[], day: string): Task[] {
  return appointments(tasks).filter((task) => dayOf(task.appointment!) === day)
}

/** The seven days of the week of `day`, each with its appointments */
export function week(tasks: Task[], day: string): Array<{ day: string; tasks: Task[] }> {
  const booked = appointments(tasks)
  return weekDays(day).map((date) => ({ day: date, tasks: booked.filter((task) => dayOf(task.appointment!) === date) }))
}

/** Tasks in progress without a visit time */
export function unscheduled(tasks: Task[]): Task[] {
  return tasks.filter((task) => task.state === 'in_progress' && !task.appointment)
}
