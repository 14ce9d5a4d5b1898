#!/usr/bin/python3
"""Writes test/fixtures/netaddr-ip-cases.json: what netaddr 0.8.0 (Nova's IPAddressField,
Debian 12's python3-netaddr) makes of IP address text. Run with Debian's python3 after
`apt-get install python3-netaddr`; the output is committed, so tests need no Python."""
import json, random, socket, sys
import netaddr

assert netaddr.__version__ == '0.8.0', netaddr.__version__
rng = random.Random(20261126)
inputs = [
    '192.0.2.10', '0.0.0.0', '255.255.255.255', '10.0.0.5', '127.0.0.1',
    '127.1', '10.1', '0x7f.1', '010.0.0.1', '1', '1.2.3.4 x', ' 1.2.3.4', '1.2.3.256', '1.2.3', '1.2.3.4.5', '01.2.3.4',
    '', ':', ':::', '::', '::1', '::0', '1::', '1:2:3:4:5:6:7::', '::2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8:9',
    '1::2::3', '2001:DB8::10', '2001:0db8:0000:0000:0000:0000:0000:0010', '2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1',
    '1:0:0:1:0:0:0:1', '1:0:1:0:1:0:1:0', '0:0:1:0:0:0:0:0', '::ffff:192.0.2.10', '::FFFF:C000:20A', '::192.0.2.10',
    '::0.0.1.0', '::ffff:0.0.0.0', '::ffff:0:1.2.3.4', '64:ff9b::192.0.2.1', 'fe80::1%eth0', 'fe80::1ff:fe23:4567:890a',
    '12345::', 'g::1', '1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:7:1.2.3.4', '::1.2.3', '1.2.3.4::', ':1::', '1::2:', 'ffff::ffff:ffff',
    '0:0:0:0:0:0:0:2', '0:0:0:0:0:1:0:0', '2001:db8::', '[::1]', '::1/128', '00000::1', '0000:0000::0001',
]
for _ in range(300):
    words = [0 if rng.random() < 0.5 else rng.choice([rng.randrange(1, 16), rng.randrange(0x10000), 0xffff]) for _ in range(8)]
    packed = b''.join(w.to_bytes(2, 'big') for w in words)
    text = socket.inet_ntop(socket.AF_INET6, packed)
    style = rng.random()
    if style < 0.3:
        text = ':'.join('%04X' % w for w in words)  # full, upper case
    elif style < 0.5:
        text = ':'.join('%x' % w for w in words)  # no compression
    inputs.append(text)

cases = []
for text in inputs:
    try:
        out = str(netaddr.IPAddress(text))
        try:
            socket.inet_pton(socket.AF_INET6 if ':' in text else socket.AF_INET, text)
            strict = True
        except OSError:
            strict = False
        cases.append({'input': text, 'netaddr': out, 'inet_pton': strict})
    except Exception as e:
        cases.append({'input': text, 'netaddr': None, 'inet_pton': False})
json.dump({'generator': 'test/oracle/netaddr-ip-cases.py', 'netaddr': netaddr.__version__, 'cases': cases}, sys.stdout, indent=1)
