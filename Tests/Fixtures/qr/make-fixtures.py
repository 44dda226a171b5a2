#!/usr/bin/env python3
"""Writes the QR fixtures for Tests/GUITests/QRCodeTests.swift from an independent encoder, python-qrcode
(`pip install qrcode`, written against 8.2). Run from anywhere: python3 Tests/Fixtures/qr/make-fixtures.py

Each <name>.txt: line 1 "version ecc mask", line 2 the payload in hex, then one row of 1 (dark) / 0 (light)
per line, without quiet zone. Payloads are byte mode and sized so the smallest fitting version is the one named.

Mask choice: python-qrcode's own choice is NOT the standard's. It scores masks with the format info, the version
info and the dark module all drawn light (makeImpl(test=True)), and its rule 3 does not treat outside the symbol
as light. So every fixture forces its mask in python-qrcode. For the "-auto" fixtures the mask is picked here:
the matrices of all eight masks come from python-qrcode, and `penalty` below scores them by ISO/IEC 18004 (whole
symbol, quiet zone light, lowest score wins, ties to the lower mask); python-qrcode's own pick is printed next to
it. The Swift test expects QRCode.encode without a mask to choose the same mask as the fixture.
"""
import os
import random

import qrcode
from qrcode.util import MODE_8BIT_BYTE, QRData

HERE = os.path.dirname(os.path.abspath(__file__))
LEVELS = {"L": qrcode.constants.ERROR_CORRECT_L, "M": qrcode.constants.ERROR_CORRECT_M,
          "Q": qrcode.constants.ERROR_CORRECT_Q, "H": qrcode.constants.ERROR_CORRECT_H}

rng = random.Random(18004)
CASES = [  # name, ecc, mask (None = choose by the standard penalty), payload
    ("v1-L-auto", "L", None, b"Corral TR-069 ACS"),
    ("v1-H-mask5", "H", 5, b"0123456"),
    ("v2-Q-mask2", "Q", 2, b"https://corral.lan"),
    ("v5-M-auto-otpauth", "M", None,
     b"otpauth://totp/Corral:alice@example.net?secret=JBSWY3DPEHPK3PXP&issuer=Corral"),
    ("v7-H-mask7", "H", 7, ("Grüße aus dem Kuhstall 🐄 " * 3).encode()[:60]),
    ("v10-Q-auto", "Q", None, bytes(rng.randrange(256) for _ in range(140))),
    ("v21-L-auto", "L", None, bytes(rng.randrange(256) for _ in range(900))),
    ("v27-H-mask3", "H", 3, bytes(rng.randrange(256) for _ in range(610))),
    ("v40-L-auto", "L", None, bytes(rng.randrange(256) for _ in range(2953))),
]


def build(payload, ecc, mask):
    qr = qrcode.QRCode(error_correction=LEVELS[ecc], border=0, mask_pattern=mask)
    qr.add_data(QRData(payload, mode=MODE_8BIT_BYTE, check_data=False))
    qr.make(fit=True)
    return qr


def penalty(m):
    n = len(m)
    lines = [list(r) for r in m] + [[m[y][x] for y in range(n)] for x in range(n)]
    score = 0
    for line in lines:
        run = 1  # rule 1: runs of five or more, 3 + the excess
        for i in range(1, n + 1):
            if i < n and line[i] == line[i - 1]:
                run += 1
            else:
                score += run - 2 if run >= 5 else 0
                run = 1
        s = "0000" + "".join("1" if v else "0" for v in line) + "0000"  # rule 3, outside light
        score += 40 * sum(s.startswith(p, i) for i in range(len(s)) for p in ("10111010000", "00001011101"))
    score += 3 * sum(m[y][x] == m[y][x + 1] == m[y + 1][x] == m[y + 1][x + 1]
                     for y in range(n - 1) for x in range(n - 1))  # rule 2
    dark = sum(map(sum, m))
    return score + 10 * (abs(20 * dark - 10 * n * n) // (n * n))  # rule 4


for name, ecc, mask, payload in CASES:
    note = ""
    if mask is None:
        scores = [penalty(build(payload, ecc, k).get_matrix()) for k in range(8)]
        mask = scores.index(min(scores))
        own = build(payload, ecc, None)
        python_pick = own.best_mask_pattern()
        note = f" penalties {scores}; python-qrcode picks {python_pick}" + ("" if python_pick == mask else " (differs)")
    qr = build(payload, ecc, mask)
    expected = int(name.split("-")[0][1:])
    assert qr.version == expected, (name, qr.version)
    rows = ["".join("1" if v else "0" for v in row) for row in qr.get_matrix()]
    with open(os.path.join(HERE, name + ".txt"), "w") as f:
        f.write(f"{qr.version} {ecc} {mask}\n{payload.hex()}\n" + "\n".join(rows) + "\n")
    print(f"{name}: version {qr.version} {ecc} mask {mask}{note}")
