"""Pictures and PDF documents for the demo data, drawn on the fly with Pillow.

Nothing here is a committed binary: every photo and report of the demo
database is generated at build time. The drawings are simple but plausible
(an instrument body, its display, a sample area, a phone-camera timestamp)
so that the back office and the clients show real images.

Chinese text needs a CJK font. When the machine has none (a fresh Debian has
only DejaVu), the pictures and reports fall back to their English wording
instead of drawing empty boxes.
"""
import datetime as dt
import glob
import io
import random
import shutil
import subprocess

from PIL import Image, ImageDraw, ImageFont

_CJK_PATTERNS = [
    '/usr/share/fonts/**/NotoSansCJK*.tt[fc]',
    '/usr/share/fonts/**/NotoSerifCJK*.tt[fc]',
    '/usr/share/fonts/**/wqy-*.tt[fc]',
    '/usr/share/fonts/**/DroidSansFallback*.ttf',
    '/usr/share/fonts/**/SourceHanSans*.[ot]t[fc]',
    '/System/Library/Fonts/PingFang.ttc',
    ]
_LATIN_PATTERNS = [
    '/usr/share/fonts/**/DejaVuSans.ttf',
    '/usr/share/fonts/**/LiberationSans-Regular.ttf',
    ]


def _find_cjk_font():
    "Path of a font able to draw Chinese, or None"
    if shutil.which('fc-list'):
        try:
            output = subprocess.run(
                ['fc-list', ':lang=zh', 'file'], capture_output=True,
                text=True, timeout=10).stdout
        except (OSError, subprocess.SubprocessError):
            output = ''
        for line in sorted(output.splitlines()):
            path = line.split(':')[0].strip()
            if path:
                return path
    for pattern in _CJK_PATTERNS:
        paths = sorted(glob.glob(pattern, recursive=True))
        if paths:
            return paths[0]
    return None


class Fonts:
    "Fonts by size; .cjk tells whether Chinese text can be drawn"

    def __init__(self):
        self.path = _find_cjk_font()
        self.cjk = self.path is not None
        if not self.path:
            for pattern in _LATIN_PATTERNS:
                paths = sorted(glob.glob(pattern, recursive=True))
                if paths:
                    self.path = paths[0]
                    break
        self._cache = {}

    def __call__(self, size):
        if size not in self._cache:
            try:
                font = ImageFont.truetype(self.path, size)
            except (OSError, TypeError, AttributeError):
                # No usable font file: Pillow's built-in one
                font = ImageFont.load_default(size=size)
            self._cache[size] = font
        return self._cache[size]

    def text(self, zh, en):
        "The Chinese wording when it can be drawn, else the English one"
        return zh if self.cjk else en


FONTS = None


def fonts():
    global FONTS
    if FONTS is None:
        FONTS = Fonts()
    return FONTS


# Body colour, accent colour per kind of instrument
PALETTE = {
    'lc': ((232, 236, 240), (0, 102, 178)),
    'gc': ((236, 238, 236), (0, 128, 96)),
    'spectro': ((240, 240, 236), (120, 60, 160)),
    'balance': ((214, 218, 222), (40, 40, 48)),
    'centrifuge': ((244, 244, 244), (0, 140, 200)),
    'ph': ((228, 232, 236), (30, 90, 160)),
    'ms': ((222, 226, 232), (0, 70, 140)),
    'cabinet': ((236, 236, 228), (60, 120, 60)),
    'generic': ((232, 232, 236), (90, 90, 110)),
    }


def _background(draw, width, height, rng):
    "A lab bench: a wall gradient and a bench top"
    for y in range(height):
        shade = int(200 + 40 * y / height)
        draw.line([(0, y), (width, y)], fill=(shade, shade, shade - 8))
    bench = int(height * 0.78)
    draw.rectangle([0, bench, width, height], fill=(150, 150, 156))
    draw.line([(0, bench), (width, bench)], fill=(110, 110, 116), width=4)
    # a few bottles on the bench for context
    for i in range(rng.randint(1, 3)):
        x = rng.choice([40, 90, width - 120, width - 70]) + rng.randint(-10, 10)
        h = rng.randint(50, 90)
        draw.rectangle([x, bench - h, x + 34, bench], fill=(
            rng.randint(150, 220), rng.randint(170, 230), 240),
            outline=(90, 90, 100))
        draw.rectangle([x + 10, bench - h - 14, x + 24, bench - h],
            fill=(60, 60, 70))


def _screen(draw, box, accent, rng):
    draw.rectangle(box, fill=(20, 34, 48), outline=(60, 60, 70), width=3)
    x0, y0, x1, y1 = box
    # a chromatogram / spectrum trace
    points, base = [], y1 - 12
    for x in range(x0 + 8, x1 - 8, 4):
        y = base - rng.random() * 4
        for peak in (0.3, 0.55, 0.8):
            centre = x0 + (x1 - x0) * peak
            y -= (y1 - y0 - 30) * 0.8 * 2.718 ** (-((x - centre) / 9) ** 2) \
                * (0.5 + peak / 2)
        points.append((x, y))
    draw.line(points, fill=(120, 230, 140), width=2)


def _instrument(draw, kind, width, height, rng):
    "Draw the instrument; return the box of the part a fault photo circles"
    body, accent = PALETTE.get(kind, PALETTE['generic'])
    bench = int(height * 0.78)
    cx = width // 2
    if kind in {'lc', 'gc', 'ms'}:
        # stacked modules (solvent tray, pump, sampler, oven, detector)
        modules = 4 if kind == 'lc' else 3
        w = 300 if kind != 'ms' else 420
        x0, x1 = cx - w // 2, cx + w // 2
        top = bench - modules * 78
        for i in range(modules):
            y = top + i * 78
            draw.rounded_rectangle([x0, y, x1, y + 74], 8, fill=body,
                outline=(120, 124, 130), width=2)
            draw.rectangle([x0 + 12, y + 10, x0 + 24, y + 64], fill=accent)
            draw.ellipse([x1 - 36, y + 28, x1 - 20, y + 44],
                fill=(80, 200, 90) if i else (240, 180, 0))
        if kind == 'lc':
            for i in range(4):  # solvent bottles on top
                bx = x0 + 30 + i * 64
                draw.rectangle([bx, top - 70, bx + 40, top - 4],
                    fill=(210, 225, 245), outline=(100, 110, 130))
        if kind == 'ms':
            draw.rounded_rectangle([x1 - 150, top - 40, x1 - 20, top + 20],
                10, fill=accent)
        _screen(draw, [x0 - 190, top + 10, x0 - 20, top + 120], accent, rng)
        return (x0 + 20, top + 78, x1 - 20, top + 152)
    if kind == 'balance':
        draw.rounded_rectangle([cx - 170, bench - 70, cx + 170, bench],
            12, fill=body, outline=(90, 90, 96), width=2)
        draw.rectangle([cx - 130, bench - 300, cx + 130, bench - 70],
            outline=(150, 170, 190), width=4)  # draft shield
        draw.ellipse([cx - 60, bench - 96, cx + 60, bench - 80],
            fill=(190, 190, 196), outline=(110, 110, 116))
        draw.rectangle([cx - 70, bench - 56, cx + 70, bench - 20],
            fill=(20, 34, 48))
        draw.text((cx - 60, bench - 52), '0.00000 g',
            font=fonts()(22), fill=(120, 230, 140))
        return (cx - 70, bench - 100, cx + 70, bench - 16)
    if kind == 'centrifuge':
        draw.rounded_rectangle([cx - 200, bench - 220, cx + 200, bench],
            30, fill=body, outline=(120, 124, 130), width=3)
        draw.ellipse([cx - 150, bench - 250, cx + 150, bench - 150],
            fill=(200, 206, 212), outline=(110, 110, 120), width=3)
        draw.rectangle([cx - 80, bench - 120, cx + 80, bench - 70],
            fill=(20, 34, 48))
        draw.text((cx - 70, bench - 112), '4000 rpm  4°C',
            font=fonts()(20), fill=(120, 230, 140))
        return (cx - 150, bench - 250, cx + 150, bench - 150)
    if kind == 'ph':
        draw.rounded_rectangle([cx - 110, bench - 150, cx + 110, bench],
            16, fill=body, outline=(100, 104, 110), width=2)
        draw.rectangle([cx - 80, bench - 130, cx + 80, bench - 70],
            fill=(20, 34, 48))
        draw.text((cx - 60, bench - 120), 'pH 7.01',
            font=fonts()(30), fill=(120, 230, 140))
        draw.line([(cx + 110, bench - 40), (cx + 200, bench - 260)],
            fill=(60, 60, 60), width=3)  # electrode arm and cable
        draw.rectangle([cx + 190, bench - 260, cx + 206, bench - 120],
            fill=(235, 235, 240), outline=(90, 90, 96))
        draw.ellipse([cx + 160, bench - 120, cx + 240, bench - 20],
            outline=(120, 150, 190), width=3)  # beaker
        return (cx + 170, bench - 160, cx + 226, bench - 100)
    if kind == 'cabinet':
        draw.rectangle([cx - 230, bench - 330, cx + 230, bench],
            fill=body, outline=(110, 110, 110), width=3)
        draw.rectangle([cx - 200, bench - 280, cx + 200, bench - 110],
            fill=(200, 220, 235), outline=(120, 140, 160), width=3)
        draw.rectangle([cx - 230, bench - 330, cx + 230, bench - 300],
            fill=accent)
        return (cx - 200, bench - 280, cx + 200, bench - 110)
    # spectrometers and everything else: a benchtop box with a lid
    draw.rounded_rectangle([cx - 220, bench - 170, cx + 220, bench],
        14, fill=body, outline=(110, 114, 120), width=3)
    draw.rectangle([cx - 200, bench - 200, cx + 40, bench - 170],
        fill=accent)  # sample compartment lid
    draw.rectangle([cx + 70, bench - 140, cx + 200, bench - 60],
        fill=(20, 34, 48))
    _screen(draw, [cx + 70, bench - 140, cx + 200, bench - 60], accent, rng)
    return (cx - 200, bench - 200, cx + 40, bench - 150)


def photo(instrument, kind='generic', purpose='fault', stamp=None,
        seed=0, size=(960, 720)):
    """A JPEG 'photo' of an instrument.

    purpose: fault (customer, the faulty part circled), assessment
    (engineer on site, checklist), report (work done, green tick), site
    (installation site / asset photo)."""
    rng = random.Random(seed)
    width, height = size
    image = Image.new('RGB', size)
    draw = ImageDraw.Draw(image)
    _background(draw, width, height, rng)
    spot = _instrument(draw, kind, width, height, rng)
    f = fonts()
    # brand plate
    draw.rectangle([20, 20, width - 20, 80], fill=(255, 255, 255))
    draw.text((34, 30), instrument, font=f(30), fill=(30, 30, 40))
    if purpose == 'fault':
        x0, y0, x1, y1 = spot
        draw.ellipse([x0 - 20, y0 - 20, x1 + 20, y1 + 20],
            outline=(230, 30, 30), width=6)
        draw.text((x0, max(y0 - 60, 90)), f.text('故障部位', 'Fault here'),
            font=f(30), fill=(230, 30, 30))
    elif purpose == 'assessment':
        draw.rectangle([width - 300, 100, width - 30, 300],
            fill=(255, 255, 240), outline=(90, 90, 90), width=2)
        for i, (zh, en) in enumerate([
                ('外观检查', 'Visual check'), ('通电自检', 'Power-on test'),
                ('性能测试', 'Performance'), ('耗材状态', 'Consumables')]):
            draw.text((width - 285, 115 + i * 45), '☑ ' + f.text(zh, en)
                if f.cjk else '[x] ' + en, font=f(24), fill=(30, 60, 30))
    elif purpose == 'report':
        draw.ellipse([width - 190, 100, width - 40, 250],
            outline=(20, 160, 60), width=10)
        draw.line([(width - 160, 175), (width - 125, 215),
            (width - 65, 130)], fill=(20, 160, 60), width=12)
        draw.text((width - 200, 260), f.text('已完成', 'Completed'),
            font=f(30), fill=(20, 140, 60))
    stamp = stamp or dt.datetime.now().strftime('%Y-%m-%d %H:%M')
    draw.text((width - 330, height - 46), stamp, font=f(26),
        fill=(255, 200, 40))
    output = io.BytesIO()
    image.save(output, format='JPEG', quality=82)
    return output.getvalue()


def pdf(title, subtitle, sections, seed=0, picture=None):
    """A multi-page A4 PDF document.

    sections: list of (heading, [lines]); picture: (instrument, kind) to
    draw an instrument on the last page."""
    f = fonts()
    page_size = (827, 1169)  # A4 at 100 dpi
    pages, page, draw, y = [], None, None, 0

    def new_page():
        nonlocal page, draw, y
        page = Image.new('L', page_size, 255)
        draw = ImageDraw.Draw(page)
        draw.rectangle([50, 50, 777, 54], fill=60)
        draw.text((60, 64), title, font=f(34), fill=0)
        draw.text((60, 112), subtitle, font=f(18), fill=80)
        draw.rectangle([50, 144, 777, 146], fill=120)
        pages.append(page)
        y = 170

    new_page()
    for heading, lines in sections:
        if y > 980:
            new_page()
        draw.text((60, y), heading, font=f(26), fill=0)
        y += 44
        for line in lines:
            if y > 1080:
                new_page()
            draw.text((80, y), line, font=f(19), fill=30)
            y += 32
        y += 16
    if picture:
        new_page()
        instrument, kind = picture
        shot = Image.open(io.BytesIO(photo(
                    instrument, kind, 'report', seed=seed, size=(700, 520))))
        page.paste(shot.convert('L'), (63, 190))
        draw.text((63, 730), f.text('附图：设备现场照片', 'Figure: the instrument'),
            font=f(20), fill=40)
    for number, page in enumerate(pages, 1):
        ImageDraw.Draw(page).text((390, 1120), '%s / %s' % (
                number, len(pages)), font=f(16), fill=90)
    output = io.BytesIO()
    pages[0].save(output, format='PDF', save_all=True,
        append_images=pages[1:], resolution=100.0)
    return output.getvalue()
