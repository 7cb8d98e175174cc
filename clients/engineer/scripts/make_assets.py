#!/usr/bin/env python3
"""Draw the engineer app's images and its alert sound into static/:

- icons/icon-192.png, icon-512.png (the web manifest's and the home
  screen's), icon-maskable-512.png (the same drawing inside the safe zone);
- tab/*.png: the tab bar's icons (消息, 主页, 我的), grey and selected blue;
- sounds/offer.wav: two short tones played when a new offer arrives.

Pillow only (the venv has it); run again after changing a drawing:

    .venv/bin/python clients/engineer/scripts/make_assets.py
"""
import math
import os
import struct
import wave

from PIL import Image, ImageDraw

STATIC = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..',
    'static')
BLUE = (77, 128, 240, 255)
GREY = (140, 140, 140, 255)
WHITE = (255, 255, 255, 255)
# Drawn at 4× and scaled down: smooth edges
SCALE = 4


def canvas(size):
    return Image.new('RGBA', (size * SCALE, size * SCALE), (0, 0, 0, 0))


def finish(image, size, path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    image.resize((size, size), Image.LANCZOS).save(path, optimize=True)


def wrench(draw, cx, cy, length, width, colour, hole):
    """A wrench across the centre, from lower left to upper right: a bar
    with an open ring at the top end"""
    angle = math.radians(-45)
    dx, dy = math.cos(angle), math.sin(angle)
    half = length / 2
    x0, y0 = cx - dx * half, cy - dy * half
    x1, y1 = cx + dx * half * 0.55, cy + dy * half * 0.55
    px, py = -dy * width / 2, dx * width / 2
    draw.polygon([(x0 + px, y0 + py), (x1 + px, y1 + py),
            (x1 - px, y1 - py), (x0 - px, y0 - py)], fill=colour)
    draw.ellipse([x0 - width / 2, y0 - width / 2, x0 + width / 2,
            y0 + width / 2], fill=colour)
    # The head: a ring with a notch
    hx, hy = cx + dx * half * 0.62, cy + dy * half * 0.62
    outer = width * 1.45
    draw.ellipse([hx - outer, hy - outer, hx + outer, hy + outer],
        fill=colour)
    inner = width * 0.62
    draw.ellipse([hx - inner, hy - inner, hx + inner, hy + inner], fill=hole)
    nx, ny = hx + dx * outer, hy + dy * outer
    draw.polygon([(hx + px * 1.2, hy + py * 1.2), (nx + px * 1.2,
                ny + py * 1.2), (nx - px * 1.2, ny - py * 1.2),
            (hx - px * 1.2, hy - py * 1.2)], fill=hole)


def app_icon(size, path, safe=1.0):
    image = canvas(size)
    s = size * SCALE
    draw = ImageDraw.Draw(image)
    if safe < 1.0:
        # Maskable: the background fills the square, the drawing stays in
        # the inner circle (80 %)
        draw.rectangle([0, 0, s, s], fill=BLUE)
    else:
        draw.rounded_rectangle([0, 0, s - 1, s - 1], radius=s * 0.22,
            fill=BLUE)
    wrench(draw, s / 2, s / 2, s * 0.62 * safe, s * 0.11 * safe, WHITE,
        BLUE)
    finish(image, size, path)


def tab_bell(draw, s, colour):
    draw.pieslice([s * 0.22, s * 0.16, s * 0.78, s * 0.72], 180, 360,
        fill=colour)
    draw.rectangle([s * 0.22, s * 0.44, s * 0.78, s * 0.66], fill=colour)
    draw.rounded_rectangle([s * 0.14, s * 0.64, s * 0.86, s * 0.74],
        radius=s * 0.04, fill=colour)
    draw.ellipse([s * 0.42, s * 0.74, s * 0.58, s * 0.88], fill=colour)
    draw.ellipse([s * 0.45, s * 0.08, s * 0.55, s * 0.18], fill=colour)


def tab_tasks(draw, s, colour):
    draw.rounded_rectangle([s * 0.18, s * 0.12, s * 0.82, s * 0.9],
        radius=s * 0.08, outline=colour, width=int(s * 0.07))
    for i, y in enumerate([0.34, 0.52, 0.7]):
        draw.ellipse([s * 0.3, s * (y - 0.04), s * 0.38, s * (y + 0.04)],
            fill=colour)
        draw.rounded_rectangle([s * 0.45, s * (y - 0.03), s * 0.7,
                s * (y + 0.03)], radius=s * 0.02, fill=colour)


def tab_me(draw, s, colour):
    draw.ellipse([s * 0.32, s * 0.1, s * 0.68, s * 0.46], fill=colour)
    draw.pieslice([s * 0.14, s * 0.52, s * 0.86, s * 1.24], 180, 360,
        fill=colour)


def tab_icons():
    size = 81
    for name, drawing in [('inbox', tab_bell), ('tasks', tab_tasks),
            ('me', tab_me)]:
        for suffix, colour in [('', GREY), ('-active', BLUE)]:
            image = canvas(size)
            drawing(ImageDraw.Draw(image), size * SCALE, colour)
            finish(image, size, os.path.join(STATIC, 'tab',
                    '%s%s.png' % (name, suffix)))


def offer_sound(path):
    "Two short rising tones, 0.4 s in all, 16-bit mono at 16 kHz"
    rate = 16000
    frames = []
    for frequency, seconds in [(880, 0.16), (0, 0.05), (1320, 0.2)]:
        count = int(rate * seconds)
        for i in range(count):
            # A soft start and end: no clicks
            envelope = min(1.0, i / (rate * 0.01), (count - i) / (rate * 0.03))
            value = math.sin(2 * math.pi * frequency * i / rate) if frequency \
                else 0.0
            frames.append(int(value * envelope * 0.6 * 32767))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with wave.open(path, 'wb') as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(struct.pack('<%sh' % len(frames), *frames))


def main():
    icons = os.path.join(STATIC, 'icons')
    app_icon(192, os.path.join(icons, 'icon-192.png'))
    app_icon(512, os.path.join(icons, 'icon-512.png'))
    app_icon(512, os.path.join(icons, 'icon-maskable-512.png'), safe=0.8)
    tab_icons()
    offer_sound(os.path.join(STATIC, 'sounds', 'offer.wav'))


if __name__ == '__main__':
    main()
