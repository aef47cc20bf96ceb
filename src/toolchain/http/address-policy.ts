/**
 * Which IP addresses an HTTP tool may connect to. By default only public unicast addresses:
 * every block of the IANA IPv4 and IPv6 Special-Purpose Address Registries (loopback, private,
 * shared, link-local, cloud metadata, multicast, documentation, benchmarking, AS112, AMT, the
 * IETF protocol blocks, discard, SRv6 SIDs, reserved) is refused, including IPv6 forms that embed
 * an IPv4 address (IPv4-mapped `::ffff:a.b.c.d`, IPv4-translated `::ffff:0:a.b.c.d`,
 * IPv4-compatible, NAT64 `64:ff9b::/96` and 6to4 `2002::/16`): those are judged by the IPv4
 * address they carry. Local-use NAT64 (`64:ff9b:1::/48`) and Teredo are refused whole, since the
 * IPv4 address behind them cannot be known.
 * Decimal, octal and hex spellings of IPv4 (`2130706433`, `0x7f.1`) never reach this module
 * unnormalised: the WHATWG URL parser rewrites them to dotted quads.
 */
import { BlockList, isIPv4, isIPv6 } from 'node:net';

interface Range {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
  reason: string;
}

const refusedRanges: Range[] = [
  { address: '169.254.169.254', prefix: 32, family: 'ipv4', reason: 'the cloud metadata address' },
  { address: 'fd00:ec2::254', prefix: 128, family: 'ipv6', reason: 'the cloud metadata address' },
  { address: '0.0.0.0', prefix: 8, family: 'ipv4', reason: 'an unspecified ("this network") address' },
  { address: '10.0.0.0', prefix: 8, family: 'ipv4', reason: 'a private address' },
  { address: '100.64.0.0', prefix: 10, family: 'ipv4', reason: 'a shared (carrier-grade NAT) address' },
  { address: '127.0.0.0', prefix: 8, family: 'ipv4', reason: 'a loopback address' },
  { address: '169.254.0.0', prefix: 16, family: 'ipv4', reason: 'a link-local address' },
  { address: '172.16.0.0', prefix: 12, family: 'ipv4', reason: 'a private address' },
  { address: '192.0.0.0', prefix: 24, family: 'ipv4', reason: 'an IETF protocol address' },
  { address: '192.0.2.0', prefix: 24, family: 'ipv4', reason: 'a documentation address' },
  { address: '192.31.196.0', prefix: 24, family: 'ipv4', reason: 'an AS112 (reverse DNS sink) address' },
  { address: '192.52.193.0', prefix: 24, family: 'ipv4', reason: 'an AMT (multicast tunnelling) address' },
  { address: '192.88.99.0', prefix: 24, family: 'ipv4', reason: 'a relay (6to4 anycast) address' },
  { address: '192.168.0.0', prefix: 16, family: 'ipv4', reason: 'a private address' },
  { address: '192.175.48.0', prefix: 24, family: 'ipv4', reason: 'an AS112 (reverse DNS sink) address' },
  { address: '198.18.0.0', prefix: 15, family: 'ipv4', reason: 'a benchmarking address' },
  { address: '198.51.100.0', prefix: 24, family: 'ipv4', reason: 'a documentation address' },
  { address: '203.0.113.0', prefix: 24, family: 'ipv4', reason: 'a documentation address' },
  { address: '224.0.0.0', prefix: 4, family: 'ipv4', reason: 'a multicast address' },
  { address: '240.0.0.0', prefix: 4, family: 'ipv4', reason: 'a reserved address' },
  { address: '::', prefix: 128, family: 'ipv6', reason: 'an unspecified address' },
  { address: '::1', prefix: 128, family: 'ipv6', reason: 'a loopback address' },
  // IPv4-compatible addresses are deprecated and never routed (mapped ones are judged by their IPv4 address).
  { address: '::', prefix: 96, family: 'ipv6', reason: 'a deprecated IPv4-compatible address' },
  { address: '64:ff9b:1::', prefix: 48, family: 'ipv6', reason: 'a local-use NAT64 address' },
  { address: '100:0:0:1::', prefix: 64, family: 'ipv6', reason: 'a dummy (never routed) address' },
  { address: '2620:4f:8000::', prefix: 48, family: 'ipv6', reason: 'an AS112 (reverse DNS sink) address' },
  { address: '3fff::', prefix: 20, family: 'ipv6', reason: 'a documentation address' },
  { address: '5f00::', prefix: 16, family: 'ipv6', reason: 'a segment-routing (SRv6 SID) address' },
  { address: 'fc00::', prefix: 7, family: 'ipv6', reason: 'a private (unique local) address' },
  { address: 'fe80::', prefix: 10, family: 'ipv6', reason: 'a link-local address' },
  { address: 'fec0::', prefix: 10, family: 'ipv6', reason: 'a site-local address' },
  { address: 'ff00::', prefix: 8, family: 'ipv6', reason: 'a multicast address' },
  { address: '100::', prefix: 64, family: 'ipv6', reason: 'a discard address' },
  { address: '2001:db8::', prefix: 32, family: 'ipv6', reason: 'a documentation address' },
  // Teredo hides an IPv4 address (obfuscated) in the address; refusing the range is simplest.
  { address: '2001::', prefix: 32, family: 'ipv6', reason: 'a Teredo tunnel address' },
  // The rest of the IETF protocol block: benchmarking 2001:2::/48, AMT 2001:3::/32, AS112
  // 2001:4:112::/48, ORCHID 2001:10::/28 and 2001:20::/28, drone identifiers 2001:30::/28 —
  // none of them a web server.
  { address: '2001::', prefix: 23, family: 'ipv6', reason: 'an IETF protocol address' },
];

const refused = refusedRanges.map((range) => {
  const list = new BlockList();
  list.addSubnet(range.address, range.prefix, range.family);
  return { list, family: range.family, reason: range.reason };
});

/**
 * Why `address` is not a public address (e.g. `"a loopback address"`), or `undefined` when it is
 * one a tool may connect to. An address that is not an IP at all is refused too.
 */
export function nonPublicReason(address: string): string | undefined {
  const bare = stripZone(address.replace(/^\[|\]$/g, ''));
  if (isIPv4(bare)) return rangeReason(bare, 'ipv4');
  if (!isIPv6(bare)) return 'not an IP address';
  const embedded = embeddedIPv4(bare);
  if (embedded !== undefined) {
    const reason = rangeReason(embedded, 'ipv4');
    if (reason !== undefined) return `${reason} (${embedded}, inside an IPv6 address)`;
  }
  return rangeReason(bare, 'ipv6');
}

function rangeReason(address: string, family: 'ipv4' | 'ipv6'): string | undefined {
  return refused.find((range) => range.family === family && range.list.check(address, family))?.reason;
}

function stripZone(address: string): string {
  const percent = address.indexOf('%');
  return percent === -1 ? address : address.slice(0, percent);
}

/** The IPv4 address an IPv6 address carries in a well-known embedding, if any. */
function embeddedIPv4(address: string): string | undefined {
  const groups = ipv6Groups(address);
  if (groups === undefined) return undefined;
  const lastTwo = (high: number, low: number) => `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;
  const leadingZeros = (count: number) => groups.slice(0, count).every((group) => group === 0);
  // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible; :: and ::1 are handled as IPv6).
  if (leadingZeros(5) && (groups[5] === 0xffff || groups[5] === 0)) {
    if (groups[5] === 0 && groups[6] === 0) return undefined;
    return lastTwo(groups[6]!, groups[7]!);
  }
  // ::ffff:0:a.b.c.d, IPv4-translated (SIIT).
  if (leadingZeros(4) && groups[4] === 0xffff && groups[5] === 0) return lastTwo(groups[6]!, groups[7]!);
  // 64:ff9b::/96, the NAT64 well-known prefix.
  if (groups[0] === 0x64 && groups[1] === 0xff9b && groups.slice(2, 6).every((group) => group === 0)) {
    return lastTwo(groups[6]!, groups[7]!);
  }
  // 2002:AABB:CCDD::/48, 6to4.
  if (groups[0] === 0x2002) return lastTwo(groups[1]!, groups[2]!);
  return undefined;
}

/** The eight 16-bit groups of a valid IPv6 address (dotted-quad tail allowed). */
function ipv6Groups(address: string): number[] | undefined {
  let text = address.toLowerCase();
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted !== null) {
    const parts = dotted[1]!.split('.').map(Number);
    text = `${text.slice(0, dotted.index)}${((parts[0]! << 8) | parts[1]!).toString(16)}:${((parts[2]! << 8) | parts[3]!).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((group) => Number.parseInt(group, 16)));
  const front = parse(head);
  const back = tail === undefined ? [] : parse(tail);
  const missing = 8 - front.length - back.length;
  if (missing < 0 || (tail === undefined && missing !== 0)) return undefined;
  return [...front, ...Array<number>(missing).fill(0), ...back];
}
