"""Frames with known text for the OCR tests, as raw RGB (640x480, 6 frames):

    .venv/bin/python scripts/make_ocr_media.py OUT.rgb

Black DejaVu Sans Bold lines on white, moved a few pixels each frame; the lines are
`TEXTS` (tests/ocr.rs reads the same strings back with PP-OCRv4). scripts/make_media.sh
turns the file into tests/fixtures/media/ocr_lines_640x480.mkv (raw I420, lossless).
Needs Pillow (scripts/requirements.txt) and fonts-dejavu-core (scripts/setup.sh).
"""

import sys

from PIL import Image, ImageDraw, ImageFont

# The short last line is misread unless crops keep their aspect (`resize: fixed_height`):
# stretched to the recogniser's full width, "42" reads as "N".
TEXTS = ["HELLO WORLD", "VPL 2026", "PARKING 42", "42"]
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
WIDTH, HEIGHT, FRAMES = 640, 480, 6


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make_ocr_media.py OUT.rgb")
    font = ImageFont.truetype(FONT, 44)
    with open(sys.argv[1], "wb") as out:
        for i in range(FRAMES):
            image = Image.new("RGB", (WIDTH, HEIGHT), (255, 255, 255))
            draw = ImageDraw.Draw(image)
            for line, text in enumerate(TEXTS):
                draw.text((40 + 6 * i + 60 * line, 30 + 110 * line + 3 * i), text,
                          fill=(0, 0, 0), font=font)
            out.write(image.tobytes())


if __name__ == "__main__":
    main()
