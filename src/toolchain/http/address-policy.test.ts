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
});
