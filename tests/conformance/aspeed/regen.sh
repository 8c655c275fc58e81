#!/usr/bin/env bash
# Record QEMU's answers to every program here as a check program (NAME-SOC.check).
#   python3 gen.py && ./regen.sh        (needs qemu-system-arm and a release build of devfuzz)
set -euo pipefail
cd "$(dirname "$0")"
D="${DEVFUZZ:-../../../target/release/devfuzz}"
declare -A BOARD=([ast2500]=ast2500-evb [ast2600]=ast2600-evb)
# The boards' own CS0 flash: with -nodefaults QEMU creates none, so it is added by hand on the
# FMC's SSI bus (ssi.0), chip select 0 (QEMU wires the chip-select line at reset).
declare -A FLASH=([ast2500]=mx25l25635e [ast2600]=mx66u51235f)
for prog in *-ast2[56]00.qtest; do
  soc="${prog##*-}"; soc="${soc%.qtest}"
  qemu="qemu-system-arm -M ${BOARD[$soc]} -nodefaults -display none -S -qtest stdio -device ${FLASH[$soc]},bus=ssi.0,cs=0"
  out="${prog%.qtest}.check"
  # diff exits 1 when our machine answers differently: that is what the check is for.
  "$D" diff "$prog" --machine "$soc" --against "$qemu" --write-check "$out" >/dev/null || [ $? -eq 1 ]
  echo "$out"
done
