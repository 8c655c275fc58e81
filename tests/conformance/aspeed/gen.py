#!/usr/bin/env python3
"""Write the ASPEED FMC conformance programs (NAME-SOC.qtest) into this directory.

Each program drives the FMC and its CS0 flash the way Linux's spi-aspeed-smc driver (with the
spi-nor core above it) and u-boot's aspeed_spi driver do: 32-bit register accesses, user-mode
transactions with the command and address written as one big-endian word and data moved with
32-bit accesses (iowrite32_rep / ioread32_rep) and single bytes for the rest, direct-mapped
reads in the read modes, and the DMA engine as u-boot's calibration uses it. See README.md.

    python3 gen.py            # rewrite the .qtest programs
    ./regen.sh                # then record QEMU's answers as .check programs
"""

import os

FMC = 0x1E620000
WIN = 0x20000000

CONF, CE_CTRL, INTR_CTRL, CMD_CTRL = 0x00, 0x04, 0x08, 0x0C
CE0_CTRL, SEG0 = 0x10, 0x30
DUMMY_DATA = 0x54
DMA_CTRL, DMA_FLASH, DMA_DRAM, DMA_LEN, DMA_CKSUM, TIMINGS = 0x80, 0x84, 0x88, 0x8C, 0x90, 0x94

USER, STOP = 0x3, 0x4
MODE_READ, MODE_FREAD, MODE_WRITE = 0x0, 0x1, 0x2
IO_DUAL_DATA = 1 << 29
IO_DUAL_ADDR_DATA = (1 << 29) | (1 << 28)
IO_QUAD_DATA = 1 << 30
IO_QUAD_ADDR_DATA = (1 << 30) | (1 << 28)

INTR_DMA_STATUS, INTR_DMA_EN = 1 << 11, 1 << 3
DMA_EN, DMA_WRITE, DMA_CKSUM_MODE, DMA_CALIB = 1, 2, 4, 8

SOCS = {
    # soc: (flash size, DRAM base, CE0 segment for the flash, CS1/CS2 segments Linux leaves)
    "ast2500": dict(size=32 << 20, dram=0x80000000),
    "ast2600": dict(size=64 << 20, dram=0x80000000),
}


def dummy_bits(n):
    """CEx_CTRL dummy-byte fields (bits 7:6 and 14) for n dummy bytes."""
    return ((n & 3) << 6) | (((n >> 2) & 1) << 14)


class Prog:
    def __init__(self, soc, title):
        self.soc = soc
        self.lines = [f"# {title}", f"# machine: {soc}"]
        self.read_ctl = MODE_READ  # what CE0 returns to after a user transaction
        self.four_byte = False

    def phase(self, name, scored=True):
        self.lines.append(f"# phase: {name}{'' if scored else ' unscored'}")

    def comment(self, text):
        self.lines.append(f"# {text}")

    def wl(self, reg, value):
        self.lines.append(f"writel {FMC + reg:#x} {value:#x}")

    def rl(self, reg, note=None):
        self.lines.append(f"readl {FMC + reg:#x}" + (f"  # {note}" if note else ""))

    # ---- user mode, as spi-aspeed-smc's exec_op ------------------------------------------

    def start_user(self):
        self.wl(CE0_CTRL, self.read_ctl | USER | STOP)
        self.wl(CE0_CTRL, (self.read_ctl & ~0x3) | USER)

    def stop_user(self):
        self.wl(CE0_CTRL, self.read_ctl | USER | STOP)
        self.wl(CE0_CTRL, self.read_ctl)

    def out(self, data):
        """aspeed_spi_write_to_ahb: whole words with writel, the rest with writeb."""
        i = 0
        while len(data) - i >= 4:
            word = int.from_bytes(bytes(data[i:i + 4]), "little")
            self.lines.append(f"writel {WIN:#x} {word:#x}")
            i += 4
        for b in data[i:]:
            self.lines.append(f"writeb {WIN:#x} {b:#x}")

    def inp(self, n, note):
        """aspeed_spi_read_from_ahb: whole words with readl, the rest with readb."""
        for _ in range(n // 4):
            self.lines.append(f"readl {WIN:#x}  # {note}")
        for _ in range(n % 4):
            self.lines.append(f"readb {WIN:#x}  # {note}")

    def cmd_addr(self, opcode, addr, nbytes=None):
        nbytes = nbytes or (4 if self.four_byte else 3)
        if nbytes == 3:
            self.out(list(((opcode << 24) | (addr & 0xFFFFFF)).to_bytes(4, "big")))
        else:
            self.out([opcode])
            self.out(list(addr.to_bytes(4, "big")))

    def op(self, opcode, addr=None, dummies=0, data_out=(), rx=0, note="spi-data", nbytes=None):
        self.start_user()
        if addr is None:
            self.out([opcode])
        else:
            self.cmd_addr(opcode, addr, nbytes)
        for _ in range(dummies):
            self.out([0xFF])
        if data_out:
            self.out(list(data_out))
        if rx:
            self.inp(rx, note)
        self.stop_user()

    def wren(self):
        self.op(0x06)

    def rdsr(self, note="spi-rdsr"):
        self.op(0x05, rx=1, note=note)

    def wait_ready(self, note="spi-rdsr"):
        """spi-nor polls the status register until WIP clears (one RDSR: QEMU is instant)."""
        self.rdsr(note)

    def program(self, addr, data, opcode=0x02, nbytes=None):
        self.wren()
        self.op(opcode, addr, data_out=data, nbytes=nbytes)
        self.wait_ready("spi-rdsr-after-program")

    def erase(self, opcode, addr, nbytes=None):
        self.wren()
        self.op(opcode, addr, nbytes=nbytes)
        self.wait_ready("spi-rdsr-after-erase")

    # ---- the flash window in a read mode -------------------------------------------------

    def win_reads(self, offsets, note, widths=(4,)):
        for off in offsets:
            for w in widths:
                suffix = {1: "b", 2: "w", 4: "l"}[w]
                self.lines.append(f"read{suffix} {WIN + off:#x}  # {note}")

    def write(self, name):
        path = os.path.join(os.path.dirname(os.path.abspath(__file__)), f"{name}-{self.soc}.qtest")
        with open(path, "w") as f:
            f.write("\n".join(self.lines) + "\n")


def pattern(seed, n):
    return [(seed + 7 * i) & 0xFF for i in range(n)]


def linux_enable_cs0(p):
    """aspeed_spi_chip_set_type + aspeed_spi_chip_enable: CE0 is SPI, writes enabled."""
    p.rl(CONF)
    p.wl(CONF, (0xA if p.soc == "ast2500" else 0x2A) | (1 << 16))


# ---- probe ---------------------------------------------------------------------------------

def probe(soc):
    p = Prog(soc, "probe: every register at reset, then what spi-aspeed-smc's probe and "
                  "u-boot's aspeed_spi write and read back")
    p.phase("reset-values")
    for reg in range(0, 0x100, 4):
        p.rl(reg)
    p.phase("linux-probe")
    linux_enable_cs0(p)
    p.rl(CONF)
    p.rl(CE0_CTRL)
    p.rl(CE_CTRL)
    # aspeed_spi_chip_set_default_window / adjust_window: CS0 sized to the flash, the others
    # following it or disabled.
    if soc == "ast2500":
        # 8 MiB units, absolute addresses: end << 24 | start << 16.
        segs = [(0x22000000, 0x20000000), (0x28000000, 0x22000000), (0x2A000000, 0x28000000)]
        for cs, (end, start) in enumerate(segs):
            p.wl(SEG0 + 4 * cs, ((end >> 23) << 24) | ((start >> 23) << 16))
            p.rl(SEG0 + 4 * cs)
        # A disabled CS1 (start == end).
        p.wl(SEG0 + 4, (0x44 << 24) | (0x44 << 16))
        p.rl(SEG0 + 4)
        p.wl(SEG0, 0x50400000)
        p.rl(SEG0)
    else:
        # 1 MiB units, offsets in the window: (end - 1) & 0x0FF00000 | start >> 16.
        def reg(start, end):
            return ((end - 1) & 0x0FF00000) | ((start >> 16) & 0x0FF0) if end > start else 0
        segs = [(0, 64 << 20), (64 << 20, 128 << 20), (0, 0)]
        for cs, (start, end) in enumerate(segs):
            p.wl(SEG0 + 4 * cs, reg(start, end))
            p.rl(SEG0 + 4 * cs)
        p.wl(SEG0 + 8, reg(128 << 20, 256 << 20))
        p.rl(SEG0 + 8)
        p.wl(SEG0 + 8, 0)
        p.rl(SEG0 + 8)
        p.wl(SEG0, reg(0, 128 << 20))
        p.rl(SEG0)
    # CE control: 4-byte address mode for CE0 (aspeed_spi_chip_set_4byte), and back.
    p.wl(CE_CTRL, 0x1)
    p.rl(CE_CTRL)
    p.wl(CE_CTRL, 0x0)
    p.rl(CE_CTRL)
    # CE0 control values the drivers use: fast read 0x0B with one dummy byte at HCLK/4, the
    # dual and quad data modes, write mode, user mode.
    for value in [
        (0x0B << 16) | dummy_bits(1) | (0x6 << 8) | MODE_FREAD,
        IO_DUAL_DATA | (0x3B << 16) | dummy_bits(1) | (0xD << 8) | MODE_FREAD,
        IO_QUAD_DATA | (0x6B << 16) | dummy_bits(1) | (0xD << 8) | MODE_FREAD,
        (0x02 << 16) | MODE_WRITE,
        USER | STOP,
        STOP,
        0x0,
    ]:
        p.wl(CE0_CTRL, value)
        p.rl(CE0_CTRL)
    for cs in (1, 2):
        p.wl(CE0_CTRL + 4 * cs, (0x0B << 16) | dummy_bits(1) | MODE_FREAD)
        p.rl(CE0_CTRL + 4 * cs)
    # Timing compensation (aspeed_spi_calibrate), dummy data, command control.
    p.wl(TIMINGS, 0x00000000)
    p.rl(TIMINGS)
    p.wl(TIMINGS, 0x0000_0AB8)
    p.rl(TIMINGS)
    p.wl(DUMMY_DATA, 0xFF)
    p.rl(DUMMY_DATA)
    p.wl(CMD_CTRL, 0x00)
    p.rl(CMD_CTRL)
    # Interrupt control: DMA interrupt enable (u-boot leaves it off; Linux never uses it).
    p.wl(INTR_CTRL, INTR_DMA_EN)
    p.rl(INTR_CTRL)
    p.wl(INTR_CTRL, 0)
    p.rl(INTR_CTRL)
    # DMA address and length registers keep what the masks let through.
    p.wl(DMA_FLASH, 0x20010003)
    p.rl(DMA_FLASH)
    p.wl(DMA_DRAM, 0x80100003)
    p.rl(DMA_DRAM)
    p.wl(DMA_LEN, 0xFFFFFFFF)
    p.rl(DMA_LEN)
    p.wl(DMA_LEN, 0x200)
    p.rl(DMA_LEN)
    p.rl(DMA_CKSUM)
    if soc == "ast2600":
        # The DMA request/grant handshake (aspeed_spi_dma_request): granted at once.
        p.wl(DMA_CTRL, 0xAEED0000)
        p.rl(DMA_CTRL)
        p.wl(DMA_CTRL, 0xDEEA0000)
        p.rl(DMA_CTRL)
    p.write("probe")


# ---- JEDEC id and the flash's registers ----------------------------------------------------

def jedec(soc):
    p = Prog(soc, "jedec: spi-nor's probe through user mode: RDID (0x9F), status and "
                  "configuration registers, the SFDP header and parameter table")
    p.phase("setup", scored=False)
    linux_enable_cs0(p)
    p.phase("rdid")
    # spi_nor_read_id: 6 bytes, one word then two bytes.
    p.op(0x9F, rx=6, note="spi-rdid")
    # The same, byte by byte (u-boot).
    p.op(0x9F, rx=0)
    p.lines.pop()  # keep CS asserted: rewrite below
    p.lines.pop()
    for _ in range(3):
        p.lines.append(f"readb {WIN:#x}  # spi-rdid")
    p.stop_user()
    p.phase("registers")
    p.rdsr()
    p.op(0x15, rx=1, note="spi-rdcr")  # Macronix: configuration register
    p.wren()
    p.rdsr("spi-rdsr-wel")
    p.op(0x04)  # WRDI
    p.rdsr()
    # Status register read repeatedly in one transaction (the register repeats).
    p.op(0x05, rx=4, note="spi-rdsr-repeat")
    p.phase("sfdp")
    # spi_nor_parse_sfdp: the header and the parameter headers, then the basic flash parameter
    # table where the first parameter header points (0x30), then (not read by Linux) the
    # vendor table the second one points to. QEMU's m25p80 has a table for mx25l25635e only.
    part = "mx25l25635e" if soc == "ast2500" else "mx66u51235f"
    p.op(0x5A, 0x000000, dummies=1, rx=24, note=f"spi-sfdp-header-{part}", nbytes=3)
    p.op(0x5A, 0x000030, dummies=1, rx=36, note=f"spi-sfdp-bfpt-{part}", nbytes=3)
    p.op(0x5A, 0x000060, dummies=1, rx=12, note=f"spi-sfdp-vendor-{part}", nbytes=3)
    p.write("jedec")


# ---- reads in every mode -------------------------------------------------------------------

def read_modes(soc):
    p = Prog(soc, "read-modes: a pattern programmed in user mode, then read through the window "
                  "in normal read, fast read, dual and quad modes, in 3- and 4-byte addressing, "
                  "and through user-mode READ / FAST_READ")
    p.phase("setup", scored=False)
    linux_enable_cs0(p)
    p.program(0x000000, pattern(0x10, 64))
    p.program(0x000100, pattern(0x80, 16))
    p.program(0x01000000 if False else 0xFFFFF0, pattern(0x40, 16))
    # 4-byte address page program (0x12) above 16 MiB.
    p.program(0x01000000, pattern(0xC0, 32), opcode=0x12, nbytes=4)
    offsets = [0x0, 0x4, 0x10, 0x3C, 0x100, 0x10C, 0xFFFFF0, 0xFFFFFC]
    p.phase("normal-read")
    p.wl(CE0_CTRL, MODE_READ)
    p.win_reads(offsets, "flash-read", widths=(4,))
    p.win_reads([0x1, 0x2, 0x3, 0x101], "flash-read", widths=(1,))
    p.win_reads([0x2, 0x102], "flash-read", widths=(2,))
    p.lines.append(f"read {WIN:#x} 0x20  # flash-read")
    p.phase("fast-read")
    p.read_ctl = (0x0B << 16) | dummy_bits(1) | MODE_FREAD
    p.wl(CE0_CTRL, p.read_ctl)
    p.win_reads(offsets, "flash-fast-read")
    p.win_reads([0x3, 0x105], "flash-fast-read", widths=(1,))
    p.phase("dual-output")
    p.read_ctl = IO_DUAL_DATA | (0x3B << 16) | dummy_bits(1) | MODE_FREAD
    p.wl(CE0_CTRL, p.read_ctl)
    p.win_reads(offsets, "flash-dual-read")
    p.phase("dual-io")
    p.read_ctl = IO_DUAL_ADDR_DATA | (0xBB << 16) | dummy_bits(1) | MODE_FREAD
    p.wl(CE0_CTRL, p.read_ctl)
    p.win_reads(offsets, "flash-dual-io-read")
    if soc == "ast2600":
        p.phase("quad-output")
        p.read_ctl = IO_QUAD_DATA | (0x6B << 16) | dummy_bits(1) | MODE_FREAD
        p.wl(CE0_CTRL, p.read_ctl)
        p.win_reads(offsets, "flash-quad-read")
    p.phase("user-mode-read")
    p.read_ctl = MODE_READ
    p.wl(CE0_CTRL, p.read_ctl)
    p.op(0x03, 0x000008, rx=8, note="spi-read")
    p.op(0x03, 0x000101, rx=7, note="spi-read")
    p.op(0x0B, 0x000010, dummies=1, rx=8, note="spi-fast-read")
    p.op(0x0B, 0x000104, dummies=1, rx=4, note="spi-fast-read")
    p.op(0x3B, 0x000000, dummies=1, rx=8, note="spi-dual-read")
    if soc == "ast2600":
        p.op(0x6B, 0x000000, dummies=1, rx=8, note="spi-quad-read")
    p.phase("four-byte")
    # spi-nor's set_4byte_addr_mode (EN4B), then the controller's CE0 4-byte bit.
    p.op(0xB7)
    p.wl(CE_CTRL, 0x1)
    p.four_byte = True
    p.wl(CE0_CTRL, MODE_READ)
    p.win_reads([0x0, 0x10, 0x01000000, 0x01000004, 0x0100001C, 0xFFFFF0], "flash-read-4b")
    p.read_ctl = (0x0B << 16) | dummy_bits(1) | MODE_FREAD
    p.wl(CE0_CTRL, p.read_ctl)
    p.win_reads([0x0, 0x01000000, 0x01000010], "flash-fast-read-4b")
    # 4-byte opcodes in fast-read mode (0x0C) and user mode (0x13, 0x0C).
    p.read_ctl = (0x0C << 16) | dummy_bits(1) | MODE_FREAD
    p.wl(CE0_CTRL, p.read_ctl)
    p.win_reads([0x01000000, 0x01000008], "flash-fast-read4")
    p.read_ctl = MODE_READ
    p.wl(CE0_CTRL, p.read_ctl)
    p.op(0x03, 0x01000000, rx=8, note="spi-read-4b")
    p.op(0x13, 0x01000004, rx=8, note="spi-read4")
    p.op(0x0C, 0x01000008, dummies=1, rx=8, note="spi-fast-read4")
    # Back to 3-byte addressing.
    p.op(0xE9)
    p.wl(CE_CTRL, 0x0)
    p.four_byte = False
    p.win_reads([0x0, 0x01000000], "flash-read")
    p.write("read-modes")


# ---- page program, erase, status polling ---------------------------------------------------

def program_erase(soc):
    p = Prog(soc, "program-erase: WREN, page program in user mode, status polling, 4 KiB and "
                  "64 KiB sector erase, write mode through the window, each read back")
    p.phase("setup", scored=False)
    linux_enable_cs0(p)
    p.phase("page-program")
    p.wren()
    p.rdsr("spi-rdsr-wel")
    p.op(0x02, 0x020000, data_out=pattern(0x01, 256))
    p.wait_ready("spi-rdsr-after-program")
    p.win_reads([0x020000, 0x020004, 0x020080, 0x0200FC, 0x020100], "flash-read")
    # Programming only clears bits: AND with what is there.
    p.program(0x020000, [0x0F, 0xF0, 0x00, 0xFF])
    p.win_reads([0x020000], "flash-read")
    # A page program that starts inside a page, with a tail of bytes.
    p.program(0x020203, pattern(0x55, 13))
    p.win_reads([0x020200, 0x020204, 0x020208, 0x02020C, 0x020210], "flash-read")
    p.phase("erase-4k")
    p.erase(0x20, 0x020000)
    p.win_reads([0x020000, 0x0200FC, 0x020200, 0x020FFC], "flash-read")
    p.program(0x021000, pattern(0x33, 8))
    p.program(0x030000, pattern(0x44, 8))
    p.win_reads([0x021000, 0x030000], "flash-read")
    p.phase("erase-64k")
    p.erase(0xD8, 0x020000)
    p.win_reads([0x021000, 0x030000, 0x030004], "flash-read")
    p.erase(0xD8, 0x030000)
    p.win_reads([0x030000], "flash-read")
    p.phase("write-disable")
    p.wren()
    p.op(0x04)
    p.rdsr("spi-rdsr")
    p.phase("write-mode")
    # CE0 in write mode (opcode 0x02): each AHB write is one page program command.
    p.wren()
    p.wl(CE0_CTRL, (0x02 << 16) | MODE_WRITE)
    p.lines.append(f"writel {WIN + 0x040000:#x} 0x44332211")
    p.wl(CE0_CTRL, MODE_READ)
    p.win_reads([0x040000, 0x040004], "flash-read")
    p.rdsr("spi-rdsr-after-program")
    p.wren()
    p.wl(CE0_CTRL, (0x02 << 16) | MODE_WRITE)
    p.lines.append(f"writel {WIN + 0x040004:#x} 0x88776655")
    p.wl(CE0_CTRL, MODE_READ)
    p.win_reads([0x040000, 0x040004], "flash-read")
    p.phase("4-byte-erase")
    p.program(0x01000000, pattern(0x21, 8), opcode=0x12, nbytes=4)
    p.wl(CE0_CTRL, MODE_READ)
    p.op(0x13, 0x01000000, rx=8, note="spi-read4")
    p.erase(0x21, 0x01000000, nbytes=4)
    p.op(0x13, 0x01000000, rx=8, note="spi-read4")
    p.write("program-erase")


# ---- DMA -----------------------------------------------------------------------------------

def dma(soc):
    p = Prog(soc, "dma: u-boot's calibration checksum, checksums and flash-to-DRAM copies of "
                  "several lengths (how many bytes does DMA_LEN move?), a DRAM-to-flash copy")
    dram = SOCS[soc]["dram"]
    p.phase("setup", scored=False)
    linux_enable_cs0(p)
    # 128 distinct words at flash 0x10000: word i = 0x01010101 * (i + 1).
    data = []
    for i in range(64):
        data += list(((i + 1) * 0x01010101 & 0xFFFFFFFF).to_bytes(4, "little"))
    p.program(0x010000, data[:256])
    p.wl(CE0_CTRL, MODE_READ)

    def wait_done(note="dma-intr"):
        p.rl(INTR_CTRL, note)

    p.phase("calibration-checksum")
    # aspeed_spi_fmc_checksum (u-boot): flash address, length, then CKSUM|CALIB|EN with the
    # HCLK divisor and delay; poll DMA_STATUS, clear INTR_CTRL, read the sum, stop.
    for freq, delay in [(0xF, 0x0), (0x7, 0x3), (0xE, 0x5)]:
        p.wl(DMA_FLASH, WIN + 0x010000)
        p.wl(DMA_LEN, 0xFC)
        p.wl(DMA_CTRL, DMA_EN | DMA_CKSUM_MODE | DMA_CALIB | (freq << 4) | (delay << 8))
        wait_done()
        p.wl(INTR_CTRL, 0)
        p.rl(DMA_CKSUM, "dma-checksum")
        p.rl(CE0_CTRL, "ce0-ctrl-after-calibration")
        p.rl(TIMINGS)
        p.wl(DMA_CTRL, 0)
        p.rl(DMA_CKSUM, "dma-checksum")
    p.phase("checksum-lengths")
    for length in [0, 1, 2, 3, 4, 5, 7, 8, 0x3C, 0x3D, 0x3F, 0x40]:
        p.wl(DMA_FLASH, WIN + 0x010000)
        p.wl(DMA_LEN, length)
        p.wl(DMA_CTRL, DMA_EN | DMA_CKSUM_MODE)
        wait_done()
        p.rl(DMA_CKSUM, f"dma-checksum")
        p.rl(DMA_LEN, "dma-len")
        p.rl(DMA_FLASH, "dma-flash-addr")
        p.wl(DMA_CTRL, 0)
        wait_done()
    p.phase("read-lengths")
    for i, length in enumerate([0, 1, 3, 4, 8, 0x3C, 0x3F]):
        buf = dram + 0x100000 + 0x100 * i
        p.lines.append(f"memset {buf:#x} 0x80 0xaa")
        p.wl(DMA_FLASH, WIN + 0x010000)
        p.wl(DMA_DRAM, buf)
        p.wl(DMA_LEN, length)
        p.wl(DMA_CTRL, DMA_EN)
        wait_done()
        p.rl(DMA_CKSUM, "dma-checksum")
        p.rl(DMA_LEN, "dma-len")
        p.rl(DMA_FLASH, "dma-flash-addr")
        p.rl(DMA_DRAM, "dma-dram-addr")
        p.lines.append(f"read {buf:#x} 0x50  # dram")
        p.wl(DMA_CTRL, 0)
    p.phase("interrupt-and-busy")
    # DMA interrupt enabled: status set on completion; clearing INTR_CTRL while EN stays set
    # makes the engine look busy, so a new start is refused until DMA_CTRL is cleared.
    p.wl(INTR_CTRL, INTR_DMA_EN)
    p.wl(DMA_FLASH, WIN + 0x010000)
    p.wl(DMA_LEN, 0x0C)
    p.wl(DMA_CTRL, DMA_EN | DMA_CKSUM_MODE)
    wait_done()
    p.rl(DMA_CKSUM, "dma-checksum")
    p.wl(INTR_CTRL, INTR_DMA_EN)
    wait_done()
    p.wl(DMA_FLASH, WIN + 0x010000)
    p.wl(DMA_LEN, 0x1C)
    p.wl(DMA_CTRL, DMA_EN | DMA_CKSUM_MODE)
    wait_done()
    p.rl(DMA_CKSUM, "dma-checksum")
    p.wl(DMA_CTRL, 0)
    wait_done()
    p.rl(DMA_CKSUM, "dma-checksum")
    p.wl(INTR_CTRL, 0)
    p.phase("dram-to-flash")
    # DMA writes go through the flash window: CE0 in write mode, page program opcode.
    src = dram + 0x200000
    p.lines.append("write {:#x} 0x10 0x{}".format(src, bytes(range(0x60, 0x70)).hex()))
    p.wren()
    p.wl(CE0_CTRL, (0x02 << 16) | MODE_WRITE)
    p.wl(DMA_FLASH, WIN + 0x050000)
    p.wl(DMA_DRAM, src)
    p.wl(DMA_LEN, 0x0C if soc == "ast2500" else 0x0F)
    p.wl(DMA_CTRL, DMA_EN | DMA_WRITE)
    wait_done()
    p.rl(DMA_CKSUM, "dma-checksum")
    p.rl(DMA_LEN, "dma-len")
    p.wl(DMA_CTRL, 0)
    p.wl(CE0_CTRL, MODE_READ)
    p.win_reads([0x050000], "flash-read")
    p.win_reads([0x050004, 0x050008, 0x05000C], "flash-read-after-dma-write")
    p.win_reads([0x050010], "flash-read")
    p.write("dma")


if __name__ == "__main__":
    for soc in SOCS:
        for gen in (probe, jedec, read_modes, program_erase, dma):
            gen(soc)
