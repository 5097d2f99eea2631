// Byte-level tests of the rtnetlink codec: every fixture is hex written field by field from the
// kernel's struct layouts (linux/rtnetlink.h, if_link.h, if_addr.h, neighbour.h, netlink.h),
// never produced by the encoder under test.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { NlWriter } from '../../../src/dataplane/netlink/writer.js';
import { readRoute, writeRoute, type RouteSpec } from '../../../src/dataplane/netlink/route.js';
import { readLink, writeLinkCreate, writeLinkSet } from '../../../src/dataplane/netlink/link.js';
import { readAddress, writeAddress } from '../../../src/dataplane/netlink/addr.js';
import { readNeighbour, writeNeighbour } from '../../../src/dataplane/netlink/neigh.js';
import { readError } from '../../../src/dataplane/netlink/message.js';
import { forEachMessage, type NlHeader } from '../../../src/dataplane/netlink/reader.js';
import { formatIpv6, writeIpv4, writeIpv6 } from '../../../src/dataplane/netlink/ip.js';

/** Independent byte builder: hex fragments, whitespace ignored. */
function hex(...parts: string[]): Buffer {
  const s = parts.join('').replace(/\s+/g, '');
  if (s.length % 2 !== 0 || /[^0-9a-f]/i.test(s)) throw new Error(`bad fixture hex ${s}`);
  return Buffer.from(s, 'hex');
}

function encode(fn: (w: NlWriter) => void): Buffer {
  const w = new NlWriter(16);
  fn(w);
  return Buffer.from(w.view());
}

describe('route encoding', () => {
  it('IPv4 blackhole with protocol: rtmsg, RTA_DST, RTA_TABLE', () => {
    const got = encode((w) => writeRoute(w, { dst: '10.1.0.0', dstLen: 24, type: 'blackhole', protocol: 80 }, 'add'));
    expect(got.toString('hex')).toBe(
      hex(
        '02', // rtm_family AF_INET
        '18', // rtm_dst_len 24
        '00 00', // src_len, tos
        'fe', // rtm_table main (254)
        '50', // rtm_protocol 80
        '00', // rtm_scope universe
        '06', // rtm_type RTN_BLACKHOLE
        '00000000', // rtm_flags
        '0800 0100 0a010000', // RTA_DST 10.1.0.0
        '0800 0f00 fe000000', // RTA_TABLE 254
      ).toString('hex'),
    );
  });

  it('IPv6 replace: table >= 256, onlink gateway, oif, metric, MTU in RTA_METRICS', () => {
    const got = encode((w) =>
      writeRoute(
        w,
        { dst: 'fd00:1::', dstLen: 64, gateway: 'fe80::1', oif: 3, onlink: true, metric: 100, mtu: 1400, protocol: 80, table: 1000 },
        'replace',
      ),
    );
    expect(got.toString('hex')).toBe(
      hex(
        '0a 40 00 00', // AF_INET6, /64, src_len, tos
        '00', // rtm_table: RT_TABLE_UNSPEC, the real table is in RTA_TABLE
        '50 00 01', // protocol 80, scope universe (has gateway), unicast
        '04000000', // rtm_flags RTNH_F_ONLINK
        '1400 0100 fd000001000000000000000000000000', // RTA_DST
        '0800 0f00 e8030000', // RTA_TABLE 1000
        '1400 0500 fe800000000000000000000000000001', // RTA_GATEWAY fe80::1
        '0800 0400 03000000', // RTA_OIF 3
        '0800 0600 64000000', // RTA_PRIORITY 100
        '0c00 0800', // RTA_METRICS (nested, 12 bytes)
        '0800 0200 78050000', //   RTAX_MTU 1400
      ).toString('hex'),
    );
  });

  it('multipath: RTA_MULTIPATH with rtnexthop headers, weight as hops-1', () => {
    const got = encode((w) =>
      writeRoute(
        w,
        {
          dst: '10.2.0.0',
          dstLen: 26,
          protocol: 80,
          multipath: [
            { gateway: '198.18.0.2', oif: 2, onlink: true },
            { gateway: '198.18.0.3', oif: 3, weight: 2 },
          ],
        },
        'add',
      ),
    );
    expect(got.toString('hex')).toBe(
      hex(
        '02 1a 00 00 fe 50 00 01 00000000', // AF_INET /26 main proto 80 universe unicast
        '0800 0100 0a020000', // RTA_DST 10.2.0.0
        '0800 0f00 fe000000', // RTA_TABLE 254
        '2400 0900', // RTA_MULTIPATH, 36 bytes
        '1000 04 00 02000000', //   rtnexthop len 16, RTNH_F_ONLINK, hops 0, ifindex 2
        '0800 0500 c6120002', //     RTA_GATEWAY 198.18.0.2
        '1000 00 01 03000000', //   rtnexthop len 16, flags 0, hops 1 (weight 2), ifindex 3
        '0800 0500 c6120003', //     RTA_GATEWAY 198.18.0.3
      ).toString('hex'),
    );
  });

  it('delete leaves type/protocol wildcard and scope NOWHERE; device route defaults to scope link', () => {
    const del = encode((w) => writeRoute(w, { dst: '10.3.0.0', dstLen: 16 }, 'delete'));
    expect(del.subarray(0, 12).toString('hex')).toBe(hex('02 10 00 00 fe', '00', 'ff', '00', '00000000').toString('hex'));
    const dev = encode((w) => writeRoute(w, { dst: '10.3.0.0', dstLen: 16, oif: 7 }, 'add'));
    expect(dev.subarray(0, 12).toString('hex')).toBe(hex('02 10 00 00 fe', '03', 'fd', '01', '00000000').toString('hex'));
  });

  it('an IPv6 gateway on an IPv4 route is sent as RTA_VIA (RFC 5549)', () => {
    const got = encode((w) => writeRoute(w, { dst: '10.4.0.0', dstLen: 24, gateway: 'fe80::2' }, 'add'));
    expect(got.subarray(28).toString('hex')).toBe(
      hex('1600 1200', '0a00', 'fe800000000000000000000000000002', '0000').toString('hex'), // RTA_VIA: len 22, family, address, pad
    );
  });

  it('rejects a bad prefix length and bad addresses', () => {
    expect(() => encode((w) => writeRoute(w, { dst: '10.0.0.0', dstLen: 33 }, 'add'))).toThrow(/prefix length/);
    expect(() => encode((w) => writeRoute(w, { dst: '10.0.0', dstLen: 8 }, 'add'))).toThrow(/invalid IP/);
    expect(() => encode((w) => writeRoute(w, { dst: '10.0.0.0', dstLen: 8, gateway: '1.2.3.256' }, 'add'))).toThrow(/invalid IP/);
  });
});

describe('route decoding', () => {
  const kernelMultipath = hex(
    '02 1a 00 00 fe 50 00 01 00000000',
    '0800 0f00 fe000000', // RTA_TABLE 254
    '0800 0100 0a020000', // RTA_DST
    '0800 0600 14000000', // RTA_PRIORITY 20
    '2400 0900',
    '1000 04 00 02000000',
    '0800 0500 c6120002',
    '1000 00 02 03000000', // weight 3
    '0800 0500 c6120003',
  );

  it('reads rtmsg, table, metric and every nexthop', () => {
    expect(readRoute(kernelMultipath, 0, kernelMultipath.length)).toEqual({
      family: 4,
      dst: '10.2.0.0',
      dstLen: 26,
      table: 254,
      protocol: 80,
      scope: 0,
      type: 'unicast',
      metric: 20,
      multipath: [
        { gateway: '198.18.0.2', oif: 2, onlink: true, weight: 1 },
        { gateway: '198.18.0.3', oif: 3, weight: 3 },
      ],
    });
  });

  it('reads a 32-bit RTA_TABLE over rtm_table, the MTU metric and onlink', () => {
    const b = hex(
      '0a 80 00 00 fc 04 00 01 04000000', // AF_INET6 /128 table COMPAT proto static, onlink
      '1400 0100 fd000000000000000000000000000009',
      '0800 0f00 10270000', // RTA_TABLE 10000
      '1400 0500 fe800000000000000000000000000001',
      '0800 0400 05000000',
      '1400 0800 0800 0200 dc050000 0800 0a00 40000000', // RTA_METRICS { MTU 1500, HOPLIMIT 64 }
    );
    expect(readRoute(b, 0, b.length)).toEqual({
      family: 6,
      dst: 'fd00::9',
      dstLen: 128,
      table: 10000,
      protocol: 4,
      scope: 0,
      type: 'unicast',
      onlink: true,
      gateway: 'fe80::1',
      oif: 5,
      mtu: 1500,
    });
  });

  it('ignores other families and never throws on truncated input', () => {
    const other = hex('80 00 00 00 fe 00 00 01 00000000'); // RTNL_FAMILY_IPMR
    expect(readRoute(other, 0, other.length)).toBeUndefined();
    for (let cut = 0; cut <= kernelMultipath.length; cut++) {
      expect(() => readRoute(kernelMultipath, 0, cut)).not.toThrow();
    }
  });

  it('property: encode then decode is the identity for what the encoder sends', () => {
    const v4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((a) => a.join('.'));
    fc.assert(
      fc.property(
        v4,
        fc.integer({ min: 1, max: 32 }),
        fc.option(v4, { nil: undefined }),
        fc.integer({ min: 1, max: 100_000 }),
        fc.nat(255),
        fc.option(fc.integer({ min: 68, max: 65535 }), { nil: undefined }),
        (dst, dstLen, gateway, table, protocol, mtu) => {
          const spec: RouteSpec = { dst, dstLen, table, protocol, type: 'unicast', scope: 0 };
          if (gateway !== undefined) spec.gateway = gateway;
          if (mtu !== undefined) spec.mtu = mtu;
          const b = encode((w) => writeRoute(w, spec, 'add'));
          expect(readRoute(b, 0, b.length)).toEqual({ family: 4, ...spec });
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('links, addresses, neighbours', () => {
  it('decodes an ipip link with IFLA_LINKINFO', () => {
    const b = hex(
      '00 00 0003', // ifi_family, pad, ifi_type ARPHRD_TUNNEL (768)
      '05000000', // ifi_index 5
      'c1000100', // ifi_flags UP|RUNNING|NOARP|LOWER_UP
      'ffffffff', // ifi_change
      '0a00 0300 74756e6c3000 0000', // IFLA_IFNAME "tunl0\0" + pad
      '0800 0400 c8050000', // IFLA_MTU 1480
      '0500 1000 06 000000', // IFLA_OPERSTATE up + pad
      '2400 1200', // IFLA_LINKINFO (36)
      '0900 0100 6970697000 000000', //   IFLA_INFO_KIND "ipip\0" + pad
      '1400 0200', //   IFLA_INFO_DATA (20)
      '0800 0200 c6120001', //     IFLA_IPTUN_LOCAL 198.18.0.1
      '0800 0300 00000000', //     IFLA_IPTUN_REMOTE 0.0.0.0
    );
    expect(readLink(b, 0, b.length)).toEqual({
      index: 5,
      name: 'tunl0',
      flags: 0x100c1,
      up: true,
      lowerUp: true,
      mtu: 1480,
      operstate: 'up',
      linkType: 768,
      kind: 'ipip',
      tunnel: { local: '198.18.0.1', remote: '0.0.0.0' },
    });
    for (let cut = 0; cut <= b.length; cut++) expect(() => readLink(b, 0, cut)).not.toThrow();
  });

  it('encodes link up + MTU, and an ipip creation request', () => {
    expect(encode((w) => writeLinkSet(w, { index: 4, up: true, mtu: 1480 })).toString('hex')).toBe(
      hex('00 00 0000', '04000000', '01000000', '01000000', '0800 0400 c8050000').toString('hex'),
    );
    expect(encode((w) => writeLinkSet(w, { index: 4, up: false })).toString('hex')).toBe(
      hex('00 00 0000', '04000000', '00000000', '01000000').toString('hex'),
    );
    expect(encode((w) => writeLinkCreate(w, { name: 'tunl0', kind: 'ipip', mtu: 1480 })).toString('hex')).toBe(
      hex(
        '00 00 0000 00000000 00000000 00000000',
        '0a00 0300 74756e6c3000 0000', // IFLA_IFNAME
        '0800 0400 c8050000', // IFLA_MTU
        '1c00 1200', // IFLA_LINKINFO (28)
        '0900 0100 6970697000 000000', //   KIND "ipip"
        '0c00 0200', //   DATA (12)
        '0500 0a00 01 000000', //     IFLA_IPTUN_PMTUDISC 1
      ).toString('hex'),
    );
  });

  it('addresses: IFA_LOCAL + IFA_ADDRESS; decode with IFA_FLAGS and label', () => {
    expect(encode((w) => writeAddress(w, { index: 3, address: '198.18.0.1', prefixLen: 24 })).toString('hex')).toBe(
      hex('02 18 00 00 03000000', '0800 0200 c6120001', '0800 0100 c6120001').toString('hex'),
    );
    const b = hex(
      '0a 40 00 00 03000000', // AF_INET6 /64 flags scope index 3
      '1400 0100 fd000000000000000000000000000001', // IFA_ADDRESS
      '0800 0800 80020000', // IFA_FLAGS PERMANENT|NOPREFIXROUTE
    );
    expect(readAddress(b, 0, b.length)).toEqual({ family: 6, prefixLen: 64, flags: 0x280, scope: 0, index: 3, address: 'fd00::1' });
  });

  it('neighbours: permanent entry with lladdr', () => {
    const b = hex(
      '02 00 0000', // AF_INET, pads
      '07000000', // ifindex 7
      '8000', // NUD_PERMANENT
      '00 00', // flags, type
      '0800 0100 0a000005', // NDA_DST 10.0.0.5
      '0a00 0200 eeeeeeeeeeee 0000', // NDA_LLADDR + pad
    );
    expect(encode((w) => writeNeighbour(w, { index: 7, address: '10.0.0.5', lladdr: 'ee:ee:ee:ee:ee:ee' })).toString('hex')).toBe(
      b.toString('hex'),
    );
    expect(readNeighbour(b, 0, b.length)).toEqual({
      family: 4,
      index: 7,
      address: '10.0.0.5',
      lladdr: 'ee:ee:ee:ee:ee:ee',
      state: 0x80,
      flags: 0,
    });
  });
});

describe('messages', () => {
  it('frames a message and back-patches nlmsg_len', () => {
    const got = encode((w) => {
      const at = w.beginMessage(24, 0x605, 7, 0);
      w.u8(2);
      w.endMessage(at);
    });
    expect(got.toString('hex')).toBe(hex('14000000', '1800', '0506', '07000000', '00000000', '02 000000').toString('hex'));
  });

  it('reads an NLMSG_ERROR with capped request and extended ACK', () => {
    const msg = 'Nexthop has invalid gateway';
    const b = hex(
      '4c000000 0200 0003 07000000 d2040000', // len 76, NLMSG_ERROR, CAPPED|ACK_TLVS, seq 7, pid 1234
      'efffffff', // error -17 (EEXIST)
      '28000000 1800 0506 07000000 00000000', // the request's header only
      '2000 0100',
      Buffer.from(msg + '\0').toString('hex'), // NLMSGERR_ATTR_MSG
      '0800 0200 24000000', // NLMSGERR_ATTR_OFFS 36
    );
    const seen: NlHeader[] = [];
    expect(forEachMessage(b, 0, b.length, (h) => seen.push(h))).toBe(true);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.seq).toBe(7);
    expect(readError(b, seen[0]!)).toEqual({ errno: 17, extack: msg, offset: 36 });
  });

  it('stops at a malformed length instead of looping', () => {
    const b = hex('08000000 0300 0000 01000000 00000000'); // nlmsg_len 8 < header
    const seen: NlHeader[] = [];
    expect(forEachMessage(b, 0, b.length, (h) => seen.push(h))).toBe(false);
    expect(seen).toHaveLength(0);
  });
});

describe('addresses as text', () => {
  const v6 = (t: string): string => {
    const b = new Uint8Array(16);
    writeIpv6(t, b, 0);
    return Buffer.from(b).toString('hex');
  };

  it('parses IPv6 forms (RFC 4291 §2.2) and formats RFC 5952 text', () => {
    expect(v6('::')).toBe('0'.repeat(32));
    expect(v6('::1')).toBe('0'.repeat(31) + '1');
    expect(v6('fd00::')).toBe('fd00' + '0'.repeat(28));
    expect(v6('2001:db8::ff00:42:8329')).toBe('20010db8000000000000ff0000428329');
    expect(v6('::ffff:198.18.0.1')).toBe('00000000000000000000ffffc6120001');
    expect(v6('1:2:3:4:5:6:7:8')).toBe('00010002000300040005000600070008');
    for (const bad of [':::', '1::2::3', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', '12345::', 'g::', '1:', ':1']) {
      expect(() => v6(bad), bad).toThrow(/invalid IP/);
    }
    const fmt = (h: string): string => formatIpv6(Buffer.from(h, 'hex'), 0);
    expect(fmt('20010db8000000000000ff0000428329')).toBe('2001:db8::ff00:42:8329');
    expect(fmt('20010db8000000010000000000000001')).toBe('2001:db8:0:1::1'); // leftmost longest run
    expect(fmt('20010db8000100000001000100010001')).toBe('2001:db8:1:0:1:1:1:1'); // a single 0 group is not compressed
    expect(fmt('00000000000000000000ffffc6120001')).toBe('::ffff:198.18.0.1');
  });

  it('refuses ambiguous IPv4 text', () => {
    const b = new Uint8Array(4);
    for (const bad of ['1.2.3', '1.2.3.4.5', '01.2.3.4', '256.1.1.1', '1..2.3', '']) {
      expect(() => writeIpv4(bad, b, 0), bad).toThrow(/invalid IP/);
    }
  });
});
