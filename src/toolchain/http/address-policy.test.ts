import { describe, expect, it } from 'vitest';
import { nonPublicReason } from './address-policy.js';

describe('nonPublicReason', () => {
  it.each([
    '8.8.8.8',
    '93.184.216.34',
    '1.1.1.1',
    '2606:4700:4700::1111',
    '2a00:1450:4001:80b::200e',
    '::ffff:8.8.8.8',
  ])('accepts the public address %s', (address) => {
    expect(nonPublicReason(address)).toBeUndefined();
  });

  it.each([
    ['127.0.0.53', 'a loopback address'],
    ['10.255.255.255', 'a private address'],
    ['172.31.0.1', 'a private address'],
    ['100.100.100.200', 'a shared (carrier-grade NAT) address'],
    ['169.254.169.254', 'the cloud metadata address'],
    ['224.0.0.1', 'a multicast address'],
    ['255.255.255.255', 'a reserved address'],
    ['::1', 'a loopback address'],
    ['[::1]', 'a loopback address'],
    ['fe80::1%eth0', 'a link-local address'],
    ['fd00:ec2::254', 'the cloud metadata address'],
    ['::127.0.0.1', 'a loopback address (127.0.0.1, inside an IPv6 address)'],
    ['::ffff:192.168.0.1', 'a private address (192.168.0.1, inside an IPv6 address)'],
    ['example.com', 'not an IP address'],
  ])('refuses %s as %s', (address, reason) => {
    expect(nonPublicReason(address)).toBe(reason);
  });

  // One address per block of the IANA IPv4 Special-Purpose Address Registry (and multicast).
  it.each([
    ['0.0.0.1', /unspecified/],
    ['10.0.0.1', /private/],
    ['100.64.0.1', /shared/],
    ['127.0.0.1', /loopback/],
    ['169.254.1.1', /link-local/],
    ['172.16.0.1', /private/],
    ['192.0.0.8', /IETF protocol/],
    ['192.0.0.170', /IETF protocol/],
    ['192.0.2.1', /documentation/],
    ['192.31.196.1', /AS112/],
    ['192.52.193.1', /AMT/],
    ['192.88.99.1', /relay/],
    ['192.168.1.1', /private/],
    ['192.175.48.1', /AS112/],
    ['198.18.0.1', /benchmarking/],
    ['198.19.255.255', /benchmarking/],
    ['198.51.100.1', /documentation/],
    ['203.0.113.1', /documentation/],
    ['239.255.255.250', /multicast/],
    ['240.0.0.1', /reserved/],
  ])('IPv4 registry: refuses %s', (address, reason) => {
    expect(nonPublicReason(address)).toMatch(reason);
  });

  // One address per block of the IANA IPv6 Special-Purpose Address Registry, plus embedded forms.
  it.each([
    ['::', /unspecified/],
    ['::1', /loopback/],
    ['::ffff:127.0.0.1', /loopback address \(127\.0\.0\.1, inside an IPv6 address\)/],
    ['::ffff:7f00:1', /loopback address \(127\.0\.0\.1/],
    ['::ffff:a9fe:a9fe', /cloud metadata address \(169\.254\.169\.254/],
    ['::ffff:0:10.0.0.1', /private address \(10\.0\.0\.1/],
    ['::8.8.8.8', /deprecated IPv4-compatible/],
    ['64:ff9b::10.0.0.1', /private address \(10\.0\.0\.1/],
    ['64:ff9b::7f00:1', /loopback address \(127\.0\.0\.1/],
    ['64:ff9b:1::8.8.8.8', /local-use NAT64/],
    ['64:ff9b:1:ffff::1', /local-use NAT64/],
    ['100::1', /discard/],
    ['100:0:0:1::1', /dummy/],
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', /Teredo/],
    ['2001:1::1', /IETF protocol/],
    ['2001:1::2', /IETF protocol/],
    ['2001:2::1', /IETF protocol/],
    ['2001:3::1', /IETF protocol/],
    ['2001:4:112::1', /IETF protocol/],
    ['2001:10::1', /IETF protocol/],
    ['2001:20::1', /IETF protocol/],
    ['2001:30::1', /IETF protocol/],
    ['2001:db8::1', /documentation/],
    ['3fff::1', /documentation/],
    ['2002:c0a8:0101::1', /private address \(192\.168\.1\.1/],
    ['2002:7f00:1::1', /loopback address \(127\.0\.0\.1/],
    ['2620:4f:8000::1', /AS112/],
    ['5f00::1', /SRv6/],
    ['fc00::1', /unique local/],
    ['fd12:3456::1', /unique local/],
    ['fe80::1', /link-local/],
    ['febf::1', /link-local/],
    ['fec0::1', /site-local/],
    ['ff02::1', /multicast/],
    ['ff05::1:3', /multicast/],
  ])('IPv6 registry: refuses %s', (address, reason) => {
    expect(nonPublicReason(address)).toMatch(reason);
  });

  it.each(['2002:0808:0808::1', '64:ff9b::8.8.8.8', '2001:200::1', '2001:4860:4860::8888'])(
    'accepts %s, which carries or is a public address',
    (address) => {
      expect(nonPublicReason(address)).toBeUndefined();
    },
  );
});
