/**
 * The seccomp filter the process tier hands to bubblewrap (`--seccomp FD`): a classic BPF
 * program that refuses the system calls that take disk space without passing through write(),
 * which the write watchdog counts.
 *
 * - `fallocate` allocates blocks without writing; with `FALLOC_FL_KEEP_SIZE` the file's size
 *   stays 0 and `RLIMIT_FSIZE` is not consulted, so one call could fill the host's disk. It gets
 *   `EOPNOTSUPP`, the answer of a file system without it; glibc's `posix_fallocate` then falls
 *   back to writing, which is counted and held to the file-size limit.
 * - `io_uring_setup` gets `ENOSYS` (as on a kernel without io_uring): its requests would be a
 *   second road to the disk to keep track of. Node and Python fall back to plain calls.
 * - On x86-64, calls of another ABI (x32, or the 32-bit `int 0x80` entry) get `ENOSYS`, so the
 *   numbers above cannot be reached under another number.
 */

const auditArchX8664 = 0xc000003e;
const auditArchAarch64 = 0xc00000b7;
const x32SyscallBit = 0x40000000;

const bpfLoadWordAbsolute = 0x20;
const bpfJumpEqual = 0x15;
const bpfJumpGreaterOrEqual = 0x35;
const bpfReturn = 0x06;
const seccompAllow = 0x7fff0000;
const seccompErrno = 0x00050000;
const enosys = 38;
const eopnotsupp = 95;

/** Offsets in `struct seccomp_data`. */
const syscallNumberOffset = 0;
const architectureOffset = 4;

interface Instruction {
  code: number;
  jumpIfTrue: number;
  jumpIfFalse: number;
  value: number;
}

const instruction = (code: number, value: number, jumpIfTrue = 0, jumpIfFalse = 0): Instruction => ({
  code,
  jumpIfTrue,
  jumpIfFalse,
  value,
});

/** The filter for this machine's architecture, or undefined where none is known (no filter then). */
export function diskSyscallFilter(architecture: string = process.arch): Buffer | undefined {
  const known: Record<string, { audit: number; fallocate: number; ioUringSetup: number }> = {
    x64: { audit: auditArchX8664, fallocate: 285, ioUringSetup: 425 },
    arm64: { audit: auditArchAarch64, fallocate: 47, ioUringSetup: 425 },
  };
  const target = known[architecture];
  if (target === undefined) return undefined;
  const program: Instruction[] = [
    instruction(bpfLoadWordAbsolute, architectureOffset),
    instruction(bpfJumpEqual, target.audit, 1, 0),
    instruction(bpfReturn, seccompErrno | enosys),
    instruction(bpfLoadWordAbsolute, syscallNumberOffset),
  ];
  if (architecture === 'x64') {
    program.push(
      instruction(bpfJumpGreaterOrEqual, x32SyscallBit, 0, 1),
      instruction(bpfReturn, seccompErrno | enosys),
    );
  }
  program.push(
    instruction(bpfJumpEqual, target.fallocate, 0, 1),
    instruction(bpfReturn, seccompErrno | eopnotsupp),
    instruction(bpfJumpEqual, target.ioUringSetup, 0, 1),
    instruction(bpfReturn, seccompErrno | enosys),
    instruction(bpfReturn, seccompAllow),
  );
  // struct sock_filter { __u16 code; __u8 jt; __u8 jf; __u32 k; }, in the machine's byte order
  // (little-endian on both architectures above).
  const bytes = Buffer.alloc(program.length * 8);
  program.forEach((step, index) => {
    bytes.writeUInt16LE(step.code, index * 8);
    bytes.writeUInt8(step.jumpIfTrue, index * 8 + 2);
    bytes.writeUInt8(step.jumpIfFalse, index * 8 + 3);
    bytes.writeUInt32LE(step.value >>> 0, index * 8 + 4);
  });
  return bytes;
}
