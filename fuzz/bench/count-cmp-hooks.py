#!/usr/bin/env python3
"""Count sanitizer-coverage compare-hook call sites per crate in a fuzz binary.

usage: count-cmp-hooks.py BINARY...

A call site is a `call` of __sanitizer_cov_trace_{cmp,const_cmp,switch}*; it is counted for the
crate that compiled the calling function: the instantiating crate of a generic function
(the v0 symbol's trailing crate root), otherwise the crate at the root of its path.
"""
import re, subprocess, sys, collections

HOOK = re.compile(r'call.*<__sanitizer_cov_trace_(const_)?(cmp|switch)')
FUNC = re.compile(r'^[0-9a-f]+ <(.*)>:$')
# A v0 crate root: C, an optional disambiguator s<base62>_, then <decimal length><ident>.
ROOT = re.compile(r'C(?:s[0-9A-Za-z]*_)?(\d+)')

def crate_roots(sym):
    """Every crate root named in a v0 symbol, in order, with its end offset."""
    out = []
    for m in ROOT.finditer(sym):
        n = int(m.group(1))
        name = sym[m.end():m.end() + n]
        if len(name) == n and re.fullmatch(r'[A-Za-z_][A-Za-z0-9_]*', name):
            out.append((name, m.end() + n))
    return out

def crate_of(sym):
    if sym.startswith('_R'):
        roots = crate_roots(sym)
        if not roots:
            return '?'
        last_name, last_end = roots[-1]
        if last_end == len(sym) and len(roots) > 1:
            return last_name          # instantiating crate of a generic
        return roots[0][0]
    if sym.startswith('_ZN'):
        m = re.match(r'_ZN(\d+)', sym)
        if m:
            n = int(m.group(1))
            return sym[m.end():m.end() + n]
    return '(other: ' + sym[:30] + ')'

for binary in sys.argv[1:]:
    dis = subprocess.run(['objdump', '-d', '--no-show-raw-insn', binary],
                         capture_output=True, text=True, check=True).stdout
    counts = collections.Counter()
    fn = '?'
    for line in dis.splitlines():
        m = FUNC.match(line)
        if m:
            fn = m.group(1)
        elif HOOK.search(line):
            counts[crate_of(fn)] += 1
    total = sum(counts.values())
    print(f'{binary}: {total} compare-hook call sites')
    for crate, n in counts.most_common():
        print(f'  {n:6d}  {crate}')
