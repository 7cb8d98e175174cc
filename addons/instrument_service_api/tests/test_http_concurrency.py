# This file is part of the instrument_service_api module.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
"""Twenty engineers accept the same order at the same moment: one wins, the
others are told it is already taken, and nothing is half-written."""
import json
import threading
import unittest
import uuid

from .server import APIServer

ENGINEERS = 20
CONTACT = {'name': '钱七', 'company': '丙方检测', 'phone': '13600001234'}
LINE = {'instrument_name': '原子吸收光谱仪', 'brand': 'PerkinElmer',
    'fault_description': '无法点火', 'quantity': 1}


class ConcurrencyTestCase(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        # Engineer 0 takes training only: the orders are offered to the
        # twenty others
        cls.server = APIServer(engineers=ENGINEERS + 1,
            engineer_types={0: ['training']}).start()
        try:
            cls.tokens = [cls.server.engineer(i)
                for i in range(1, ENGINEERS + 1)]
        except Exception:
            cls.server.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def submit(self):
        customer = self.server.customer()
        status, order = self.server.call('POST', '/orders', {
                'type': 'repair', 'contact': CONTACT, 'lines': [LINE]},
            customer, headers={'Idempotency-Key': uuid.uuid4().hex})
        self.assertEqual(status, 201, order)
        return order['id']

    def race(self, order_id, tokens, path='/engineer/inbox/%s/accept'):
        "Send path from every token at the same moment; return the answers"
        barrier = threading.Barrier(len(tokens))
        answers = [None] * len(tokens)

        def run(index, token):
            barrier.wait()
            try:
                answers[index] = self.server.call('POST', path % order_id,
                    None, token)
            except Exception as e:  # the answer that never came
                answers[index] = (None, repr(e))
        threads = [threading.Thread(target=run, args=(i, t))
            for i, t in enumerate(tokens)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(180)
        return answers

    def assertOneWinner(self, order_id, answers):
        server = self.server
        statuses = sorted(status for status, _ in answers)
        self.assertEqual(statuses, [200] + [409] * (len(answers) - 1),
            [(s, b.get('error') if isinstance(b, dict) else b)
                for s, b in answers if s != 409])
        winners = [i for i, (status, _) in enumerate(answers)
            if status == 200]
        winner, = winners
        for status, body in answers:
            if status == 409:
                self.assertEqual(body['error']['code'], 'already_taken')
                self.assertTrue(body['error']['message'])
        won = answers[winner][1]
        self.assertEqual(won['state'], 'in_progress')
        self.assertEqual(won['progress']['current_step'], 'accepted')

        # In the database: one engineer, one accept, one accepted offer
        employee = server.people['engineers'][winner + 1]['employee']
        (state, engineer, step), = server.sql(
            'SELECT state, engineer, step FROM instrument_service_order '
            'WHERE id = %s', (order_id,))
        self.assertEqual((state, engineer), ('in_progress', employee))
        self.assertTrue(step)
        self.assertEqual(server.count('instrument_service_order_progress',
                '"order" = %s AND action = %s', (order_id, 'accept')), 1)
        # The submission and its offer to the twenty, the accept and the
        # withdrawal of the nineteen other offers: nothing twice
        self.assertEqual([action for action, in server.sql(
                    'SELECT action FROM instrument_service_order_progress '
                    'WHERE "order" = %s ORDER BY id', (order_id,))],
            ['submit', 'offer', 'accept', 'withdraw'])
        offers = dict(server.sql(
                'SELECT engineer, state FROM instrument_service_order_offer '
                'WHERE "order" = %s', (order_id,)))
        self.assertEqual(len(offers), len(answers))
        self.assertEqual(offers.pop(employee), 'accepted')
        self.assertEqual(set(offers.values()), {'withdrawn'})

        # Each engineer sees it: the winner in the tasks, nobody in the inbox
        for index, token in enumerate(self.tokens[:len(answers)]):
            _, tasks = server.call('GET', '/engineer/tasks', token=token)
            self.assertEqual(order_id in [t['id'] for t in tasks['items']],
                index == winner)
            _, inbox = server.call('GET', '/engineer/inbox', token=token)
            self.assertNotIn(order_id, [o['id'] for o in inbox['items']])
        # The losers are told the order went to someone else
        _, notifications = server.call('GET', '/engineer/notifications',
            token=self.tokens[(winner + 1) % len(answers)])
        self.assertIn(order_id, [n['order_id']
                for n in notifications['items']])
        self.assertWithdrawnNotified(order_id, winner, answers)
        return winner

    def assertWithdrawnNotified(self, order_id, winner, answers):
        """Each loser's offer is withdrawn and each loser has exactly one
        withdrawal notice, delivered to the app's feed; the winner none"""
        server = self.server
        for index in range(len(answers)):
            person = server.people['engineers'][index + 1]
            with self.subTest(engineer=index, winner=index == winner):
                (offer,), = server.sql('SELECT state '
                    'FROM instrument_service_order_offer '
                    'WHERE "order" = %s AND engineer = %s',
                    (order_id, person['employee']))
                notices = server.sql('SELECT channel, state, external_id, '
                    'title FROM instrument_service_notice '
                    'WHERE "order" = %s AND kind = %s AND "user" = %s',
                    (order_id, 'withdrawn', person['id']))
                _, feed = server.call('GET',
                    '/engineer/notifications?page_size=100',
                    token=self.tokens[index])
                withdrawn = [n for n in feed['items']
                    if n['order_id'] == order_id
                    and n['label'] == (notices[0][3] if notices else None)]
                if index == winner:
                    self.assertEqual(offer, 'accepted')
                    self.assertEqual(notices, [])
                    # Only the offer in the winner's feed
                    self.assertEqual(len([n for n in feed['items']
                                if n['order_id'] == order_id]), 1)
                    continue
                self.assertEqual(offer, 'withdrawn')
                self.assertEqual(len(notices), 1, notices)
                (channel, state, external_id, title), = notices
                self.assertEqual((channel, state), ('tryton', 'sent'))
                self.assertTrue(title)
                self.assertEqual([n['id'] for n in withdrawn],
                    [int(external_id)])
                # Offered, then withdrawn: nothing else about the order
                self.assertEqual(len([n for n in feed['items']
                            if n['order_id'] == order_id]), 2)
        # One withdrawal, recorded once, for the nineteen
        self.assertEqual(server.count('instrument_service_order_progress',
                '"order" = %s AND action = %s', (order_id, 'withdraw')), 1)
        self.assertEqual(server.count('instrument_service_notice',
                '"order" = %s AND kind = %s', (order_id, 'withdrawn')),
            len(answers) - 1)

    def test_twenty_accept_at_once(self):
        "Exactly one of twenty simultaneous accepts wins"
        for attempt in range(2):
            with self.subTest(attempt=attempt):
                order_id = self.submit()
                answers = self.race(order_id, self.tokens)
                self.assertOneWinner(order_id, answers)
        self.assertNotIn('Traceback', self.server.server_log())

    def test_accept_against_decline(self):
        """Declines racing with accepts: one winner, the declines of the
        others either recorded or refused, never a 500"""
        server = self.server
        order_id = self.submit()
        half = ENGINEERS // 2
        barrier = threading.Barrier(ENGINEERS)
        answers = {}

        def run(index, token):
            barrier.wait()
            if index < half:
                answers[index] = server.call('POST',
                    '/engineer/inbox/%s/accept' % order_id, None, token)
            else:
                answers[index] = server.call('POST',
                    '/engineer/inbox/%s/decline' % order_id,
                    {'reason': '太远'}, token)
        threads = [threading.Thread(target=run, args=(i, t))
            for i, t in enumerate(self.tokens)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(180)
        accepts = sorted(answers[i][0] for i in range(half))
        self.assertEqual(accepts, [200] + [409] * (half - 1), answers)
        for index in range(half, ENGINEERS):
            status, body = answers[index]
            # Declined before the winner, or the offer was withdrawn
            self.assertIn(status, {204, 403}, body)
            if status == 403:
                self.assertEqual(body['error']['code'], 'forbidden')
        declined = sum(1 for i in range(half, ENGINEERS)
            if answers[i][0] == 204)
        offers = server.sql(
            'SELECT state FROM instrument_service_order_offer '
            'WHERE "order" = %s', (order_id,))
        states = sorted(s for s, in offers)
        self.assertEqual(states.count('accepted'), 1)
        self.assertEqual(states.count('declined'), declined)
        self.assertEqual(states.count('withdrawn'),
            ENGINEERS - 1 - declined)
        self.assertEqual(server.count('instrument_service_order_progress',
                '"order" = %s AND action = %s', (order_id, 'decline')),
            declined)
        self.assertEqual(server.count('instrument_service_order_progress',
                '"order" = %s AND action = %s', (order_id, 'accept')), 1)
        self.assertNotIn('Traceback', server.server_log())

    def test_double_submission(self):
        """The same submission sent eight times at once with one
        Idempotency-Key (a double tap on a bad network): one order, and
        every answer is that order"""
        server = self.server
        customer = server.customer()
        key = uuid.uuid4().hex
        data = {'type': 'repair', 'contact': CONTACT, 'lines': [LINE]}
        barrier = threading.Barrier(8)
        answers = [None] * 8

        def run(index):
            barrier.wait()
            status, headers, content = server.request('POST', '/orders',
                data, customer, headers={'Idempotency-Key': key})
            answers[index] = (status, json.loads(content),
                headers.get('Idempotent-Replayed'))
        threads = [threading.Thread(target=run, args=(i,)) for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(180)
        # Every retry answers what the first answered, marked as a replay
        self.assertEqual([status for status, _, _ in answers], [201] * 8,
            [(s, b.get('error')) for s, b, _ in answers])
        self.assertEqual(sorted(str(replayed) for _, _, replayed in answers),
            ['None'] + ['true'] * 7)
        answers = [(status, body) for status, body, _ in answers]
        self.assertEqual(len({body['id'] for _, body in answers}), 1)
        self.assertEqual(len({body['number'] for _, body in answers}), 1)
        _, mine = server.call('GET', '/orders', token=customer)
        self.assertEqual(mine['total'], 1)
        self.assertEqual(server.count('instrument_service_api_idempotency_key',
                'key = %s', (key,)), 1)
        self.assertNotIn('Traceback', server.server_log())


if __name__ == '__main__':
    unittest.main()
