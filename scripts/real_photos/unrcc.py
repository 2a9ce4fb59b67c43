"""Unpacks a Qt .rcc resource bundle (gcompris-qt-data ships its photos in them): python unrcc.py FILE.rcc OUTDIR."""
# Minimal Qt binary .rcc extractor (format v1-3): walks the tree, writes files.
import os
import struct
import sys
import zlib


def be32(b,o): return struct.unpack(">I", b[o:o+4])[0]
def be16(b,o): return struct.unpack(">H", b[o:o+2])[0]
def main(path, outdir):
    b = open(path,"rb").read()
    assert b[:4]==b"qres", path
    ver, tree, data, names = be32(b,4), be32(b,8), be32(b,12), be32(b,16)
    node = 14 if ver == 1 else 22
    def name(off):
        o = names+off; n = be16(b,o); return b[o+6:o+6+2*n].decode("utf-16-be")
    def walk(i, prefix):
        o = tree + i*node
        nm = name(be32(b,o)) if i else ""
        flags = be16(b,o+4)
        if flags & 2:
            cnt, first = be32(b,o+6), be32(b,o+10)
            for k in range(cnt): walk(first+k, prefix+"/"+nm if nm else prefix)
        else:
            doff = be32(b,o+10); size = be32(b,data+doff); raw = b[data+doff+4:data+doff+4+size]
            if flags & 1: raw = zlib.decompress(raw[4:])
            elif flags & 4:
                import zstandard
                raw = zstandard.ZstdDecompressor().decompress(raw, max_output_size=1<<28)
            p = os.path.join(outdir, (prefix+"/"+nm).lstrip("/"))
            os.makedirs(os.path.dirname(p), exist_ok=True); open(p,"wb").write(raw)
    walk(0, "")
for f in sys.argv[2:]: main(f, sys.argv[1])
