#!/usr/bin/env python3
"""Sample the kernel stack of each vCPU of a running lab guest.

    lab/vcpu-stacks.py SOCKET VMLINUX [SAMPLES [INTERVAL]]

SOCKET is the QEMU monitor socket the guest was booted with
(LAB_MONITOR=SOCKET lab/qemu.sh ...), VMLINUX the kernel it runs, with
symbols (build/obj/VARIANT/vmlinux). Each sample reads every vCPU's
registers and follows its frame records (x29) through guest memory, which
works when the guest itself cannot run a process: a soft lockup that never
trips the detector, or reclaim that starves every task. A frame on another
stack (an interrupt's) ends the walk.
"""
import bisect
import re
import socket
import subprocess
import sys
import time

KERNEL_VA = 0xffff000000000000
MAX_FRAMES = 32


def load_symbols(vmlinux):
    syms = []
    nm = subprocess.run(['nm', '-n', vmlinux], capture_output=True, text=True, check=True)
    for line in nm.stdout.splitlines():
        fields = line.split()
        if len(fields) == 3 and fields[1] in 'tTwW':
            syms.append((int(fields[0], 16), fields[2]))
    return syms


class Monitor:
    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect(path)
        self.sock.settimeout(5)
        self.command('')

    def command(self, line):
        """Run one monitor command; its output up to the next prompt."""
        self.sock.sendall(line.encode() + b'\n')
        out = b''
        while not out.rstrip().endswith(b'(qemu)'):
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            out += chunk
        return out.decode(errors='replace')

    def read_pair(self, addr):
        """Two 64-bit words of guest virtual memory at addr, or None."""
        out = self.command(f'x /2gx {addr:#x}')
        m = re.search(r'^[0-9a-f]{16}: 0x([0-9a-f]{16}) 0x([0-9a-f]{16})', out, re.M)
        return (int(m.group(1), 16), int(m.group(2), 16)) if m else None


def symbolize(syms, addrs, pc):
    i = bisect.bisect_right(addrs, pc) - 1
    return f'{syms[i][1]}+{pc - syms[i][0]:#x}' if i >= 0 else f'{pc:#x}'


def vcpu_registers(mon):
    """(cpu, pc, lr, fp) for each vCPU."""
    regs = mon.command('info registers -a')
    for block in re.split(r'CPU#', regs)[1:]:
        cpu = re.match(r'\d+', block)
        pc = re.search(r'PC=([0-9a-f]+)', block)
        lr = re.search(r'X30=([0-9a-f]+)', block)
        fp = re.search(r'X29=([0-9a-f]+)', block)
        if cpu and pc and lr and fp:
            yield cpu.group(0), int(pc.group(1), 16), int(lr.group(1), 16), int(fp.group(1), 16)


def walk(mon, cpu, fp):
    """Return addresses of the frame records from fp on, in vCPU cpu's view."""
    mon.command(f'cpu {cpu}')
    for _ in range(MAX_FRAMES):
        if fp < KERNEL_VA:
            return
        pair = mon.read_pair(fp)
        if not pair:
            return
        fp, ret = pair
        if ret < KERNEL_VA:
            return
        yield ret


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    syms = load_symbols(sys.argv[2])
    addrs = [a for a, _ in syms]
    samples = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    interval = float(sys.argv[4]) if len(sys.argv) > 4 else 2
    mon = Monitor(sys.argv[1])
    for n in range(samples):
        for cpu, pc, lr, fp in list(vcpu_registers(mon)):
            frames = [symbolize(syms, addrs, pc)]
            if pc >= KERNEL_VA:
                frames.append('lr ' + symbolize(syms, addrs, lr))
                frames += [symbolize(syms, addrs, r) for r in walk(mon, cpu, fp)]
            print(f'sample {n} cpu {cpu}: ' + ' < '.join(frames), flush=True)
        if n + 1 < samples:
            time.sleep(interval)


if __name__ == '__main__':
    main()
