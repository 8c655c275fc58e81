#!/usr/bin/env python3
"""The largest unreached blocks of source files, from a `devfuzz coverage` / `devfuzz bench` run.

usage: unreached.py BINARY PROFDATA [--top N] PATH-PREFIX...

Runs `llvm-cov-22 show -format=text` on BINARY with PROFDATA for the files under each prefix
(e.g. models/src/i8042/) and prints, largest first, the runs of lines with an execution count
of 0 (lines without code in between do not break a run), each with its file, line range and
first line of code.
"""
import os, re, subprocess, sys

args = sys.argv[1:]
top = 15
if '--top' in args:
    i = args.index('--top')
    top = int(args[i + 1])
    del args[i:i + 2]
binary, profdata, prefixes = args[0], args[1], args[2:]
cov = os.environ.get('LLVM_COV', 'llvm-cov-22')
root = os.getcwd()
files = []
for p in prefixes:
    if os.path.isdir(p):
        for d, _, fs in os.walk(p):
            files += [os.path.join(d, f) for f in fs if f.endswith('.rs') and f != 'tests.rs']
    else:
        files.append(p)
out = subprocess.run([cov, 'show', binary, f'-instr-profile={profdata}', '-format=text',
                      '-show-instantiations=false'] + [os.path.join(root, f) for f in sorted(files)],
                     capture_output=True, text=True).stdout
LINE = re.compile(r'^\s*(\d+)\|\s*([0-9.kKMG]*)\|(.*)$')
blocks, cur = [], None
fname = os.path.relpath(files[0], root) if len(files) == 1 else None
def close():
    global cur
    if cur and cur['lines'] > 0:
        blocks.append(cur)
    cur = None
for line in out.splitlines():
    if line.startswith('/') and line.endswith(':'):
        close()
        fname = os.path.relpath(line[:-1], root)
        continue
    m = LINE.match(line)
    if not m:
        continue
    n, count, text = int(m.group(1)), m.group(2), m.group(3)
    if count == '0':
        if cur is None:
            cur = {'file': fname, 'start': n, 'end': n, 'lines': 0, 'first': text.strip()}
        cur['end'] = n
        cur['lines'] += 1
    elif count:
        close()
close()
blocks.sort(key=lambda b: -b['lines'])
for b in blocks[:top]:
    print(f"{b['lines']:4d} lines  {b['file']}:{b['start']}-{b['end']}  {b['first'][:70]}")
