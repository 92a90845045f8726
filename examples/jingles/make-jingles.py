#!/usr/bin/env python3
"""Generates the sample jingles: short synthesized chords, 44.1 kHz 16-bit
stereo (bantin resamples to its output rate and mixes down to mono, so these
exercise both). Standard library only; the output is deterministic.

    python3 examples/jingles/make-jingles.py   # writes intro.wav and outro.wav beside this file
"""
import math
import os
import struct
import wave

RATE = 44_100


def note(freq, start, length, total, amp, pan, out_l, out_r):
    """A bell-like note: a few harmonics, fast attack, exponential decay."""
    first = int(start * RATE)
    count = min(int(length * RATE), total - first)
    for i in range(count):
        t = i / RATE
        env = min(1.0, t / 0.01) * math.exp(-3.0 * t / length)
        s = (math.sin(2 * math.pi * freq * t)
             + 0.35 * math.sin(2 * math.pi * 2 * freq * t)
             + 0.12 * math.sin(2 * math.pi * 3 * freq * t)) * env * amp
        out_l[first + i] += s * (1.0 - pan)
        out_r[first + i] += s * pan


def render(path, notes, seconds):
    total = int(seconds * RATE)
    left = [0.0] * total
    right = [0.0] * total
    for freq, start, length, amp, pan in notes:
        note(freq, start, length, total, amp, pan, left, right)
    peak = max(max(abs(x) for x in left), max(abs(x) for x in right))
    scale = 0.7 * 32767 / peak
    with wave.open(path, "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(b"".join(
            struct.pack("<hh", int(l * scale), int(r * scale)) for l, r in zip(left, right)))


def hz(semitones_from_a4):
    return 440.0 * 2 ** (semitones_from_a4 / 12)


C4, E4, G4, C5, E5, G5 = (hz(n) for n in (-9, -5, -2, 3, 7, 10))
HERE = os.path.dirname(os.path.abspath(__file__))

# Intro: a rising C major arpeggio, then the full chord held.
intro = [(f, 0.25 * i, 1.2, 0.5, 0.2 + 0.12 * i) for i, f in enumerate((C4, E4, G4, C5, E5))]
intro += [(f, 1.4, 2.4, 0.35, p) for f, p in ((C4, 0.3), (G4, 0.5), (C5, 0.6), (E5, 0.7))]
render(os.path.join(HERE, "intro.wav"), intro, 4.0)

# Outro: a falling arpeggio resolving on a low chord.
outro = [(f, 0.22 * i, 1.0, 0.5, 0.8 - 0.12 * i) for i, f in enumerate((G5, E5, C5, G4))]
outro += [(f, 1.0, 2.0, 0.35, p) for f, p in ((C4, 0.4), (E4, 0.5), (G4, 0.6))]
render(os.path.join(HERE, "outro.wav"), outro, 3.0)
