#!/usr/bin/env python3
"""The files the browser tests attach, made with Pillow:

    python tests/apps/media.py FOLDER

writes into FOLDER and prints their paths as one JSON object:
  photo        a 1280x960 JPEG of a drawn instrument panel (about 100 KB)
  phone_photo  a 4032x3024 JPEG as a phone camera takes it (about 4 MB)
  png          a 800x600 PNG screenshot
  pdf          a one-page PDF
  big_pdf      a PDF of 11 MB, over the 10 MB limit
  wrong_type   a .txt file, a type the app does not take
"""
import io
import json
import os
import random
import sys

from PIL import Image, ImageDraw


def panel(size, seed):
    "A drawing that looks like an instrument's front panel"
    rng = random.Random(seed)
    picture = Image.new('RGB', size, (rng.randrange(150, 220),) * 3)
    draw = ImageDraw.Draw(picture)
    w, h = size
    draw.rectangle([w // 10, h // 8, w * 9 // 10, h * 7 // 8],
        fill=(40, 60, 90), outline=(10, 10, 10), width=max(w // 200, 2))
    draw.rectangle([w // 6, h // 5, w // 2, h // 2], fill=(120, 220, 160))
    for i in range(6):
        x = w // 6 + i * w // 10
        draw.ellipse([x, h * 3 // 5, x + w // 16, h * 3 // 5 + w // 16],
            fill=(rng.randrange(256), rng.randrange(256), 60))
    return picture


def phone_photo(size=(4032, 3024), seed=1):
    """A photo as heavy as a phone camera's: the panel with sensor noise,
    saved at quality 92 (about 4 MB)"""
    picture = panel(size, seed)
    noise = Image.effect_noise(size, 40).convert('RGB')
    return Image.blend(picture, noise, 0.15)


def save(picture, format_, **options):
    output = io.BytesIO()
    picture.save(output, format=format_, **options)
    return output.getvalue()


def pdf(text, pages=1):
    "A real PDF made with Pillow"
    images = [Image.new('RGB', (595, 842), (255, 255, 255))
        for _ in range(pages)]
    for number, page in enumerate(images, 1):
        ImageDraw.Draw(page).text((60, 60), '%s - %s' % (text, number),
            fill=(0, 0, 0))
    output = io.BytesIO()
    images[0].save(output, format='PDF', save_all=True,
        append_images=images[1:])
    return output.getvalue()


def big_pdf(size):
    "A PDF padded with a comment past size bytes"
    content = pdf('big')
    padding = b'%' + b'x' * 1022 + b'\n'
    return content + padding * ((size - len(content)) // len(padding) + 1)


def main(folder):
    os.makedirs(folder, exist_ok=True)
    files = {
        'photo': ('故障照片.jpg', save(panel((1280, 960), 2), 'JPEG',
                quality=85)),
        'phone_photo': ('IMG_20250529_101500.jpg', save(phone_photo(),
                'JPEG', quality=92)),
        'png': ('截图.png', save(panel((800, 600), 3), 'PNG')),
        'pdf': ('设备清单.pdf', pdf('instrument list')),
        'big_pdf': ('大文件.pdf', big_pdf(11 * 1024 * 1024)),
        'wrong_type': ('说明.txt', '这不是照片也不是文档\n'.encode()),
        }
    paths = {}
    for key, (name, content) in files.items():
        path = os.path.join(folder, name)
        with open(path, 'wb') as fp:
            fp.write(content)
        paths[key] = path
    print(json.dumps(paths, ensure_ascii=False))


if __name__ == '__main__':
    main(sys.argv[1])
