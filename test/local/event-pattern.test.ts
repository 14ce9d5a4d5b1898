/**
 * The event-pattern matcher against the examples of AWS's EventBridge documentation.
 * Each case names the documentation section it comes from:
 *   [syntax]     "Event pattern syntax" / "Creating event patterns" (eb-create-pattern)
 *   [operators]  "Comparison operators for use in event patterns" (eb-create-pattern-operators)
 *   [filtering]  "Content filtering in Amazon EventBridge event patterns" (content-filtering-with-event-patterns)
 *   [arrays]     "Arrays in Amazon EventBridge event patterns" (eb-event-patterns-arrays)
 *   [null]       "Matching null values and empty strings" (eb-event-patterns-null-values)
 *   [ruler]      not spelled out in the user guide; behaviour of aws/event-ruler, the engine it documents
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testPatternCommand } from '../../cli/test-pattern.js';
import { compilePattern, InvalidPatternError, matchesPattern } from '../../local/event-pattern/index.js';

/** The sample EC2 event used throughout the content-filtering pages. */
const ec2Event = {
  version: '0',
  id: 'ddddd4-aaaa-7777-4444-345dd43cc333',
  'detail-type': 'EC2 Instance State-change Notification',
  source: 'aws.ec2',
  account: '012345679012',
  time: '2017-10-02T16:24:49Z',
  region: 'us-east-1',
  resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000'],
  detail: {
    'c-count': 5,
    'd-count': 3,
    'x-limit': 301.8,
    'source-ip': '10.0.0.33',
    'instance-id': 'i-000000aaaaaa00000',
    state: 'running',
  },
};

/** The sample event with `detail` replaced. */
function withDetail(detail: Record<string, unknown>): Record<string, unknown> {
  return { ...ec2Event, detail };
}

interface Case {
  readonly name: string;
  readonly pattern: unknown;
  readonly event: unknown;
  readonly expected: boolean;
}

const cases: Case[] = [
  // ---- [syntax] matching event values ----
  {
    name: '[syntax] source, detail-type and detail.state all match',
    pattern: { source: ['aws.ec2'], 'detail-type': ['EC2 Instance State-change Notification'], detail: { state: ['running'] } },
    event: ec2Event,
    expected: true,
  },
  {
    name: '[syntax] one field differs (state terminated vs running)',
    pattern: { source: ['aws.ec2'], 'detail-type': ['EC2 Instance State-change Notification'], detail: { state: ['terminated'] } },
    event: ec2Event,
    expected: false,
  },
  { name: '[syntax] several values are an OR: aws.ec2 or aws.fargate', pattern: { source: ['aws.ec2', 'aws.fargate'] }, event: { ...ec2Event, source: 'aws.fargate' }, expected: true },
  { name: '[syntax] several values: none equal', pattern: { source: ['aws.ec2', 'aws.fargate'] }, event: { ...ec2Event, source: 'aws.s3' }, expected: false },
  { name: '[syntax] the event must contain every field of the pattern', pattern: { detail: { 'launch-type': ['FARGATE'] } }, event: ec2Event, expected: false },
  { name: '[syntax] fields must have the same nesting (state is under detail, not top level)', pattern: { state: ['running'] }, event: ec2Event, expected: false },
  { name: '[syntax] matching is case sensitive', pattern: { source: ['AWS.EC2'] }, event: ec2Event, expected: false },
  { name: '[syntax] account (top-level field) exact match', pattern: { account: ['012345679012'] }, event: ec2Event, expected: true },
  { name: '[syntax] version and id (top-level fields) exact match', pattern: { version: ['0'], id: ['ddddd4-aaaa-7777-4444-345dd43cc333'] }, event: ec2Event, expected: true },
  { name: '[syntax] a number matches the same JSON number', pattern: { detail: { 'c-count': [5] } }, event: ec2Event, expected: true },
  { name: '[syntax] numbers compare as numbers: 300 matches 300.0', pattern: { detail: { count: [300] } }, event: JSON.parse('{"detail": {"count": 300.0}}'), expected: true },
  { name: '[syntax] a quoted "5" does not match the number 5', pattern: { detail: { 'c-count': ['5'] } }, event: ec2Event, expected: false },
  { name: '[syntax] the number 5 does not match the string "5"', pattern: { detail: { 'c-count': [5] } }, event: withDetail({ 'c-count': '5' }), expected: false },
  { name: '[syntax] true matches the JSON literal true', pattern: { detail: { enabled: [true] } }, event: withDetail({ enabled: true }), expected: true },
  { name: '[syntax] true does not match the string "true"', pattern: { detail: { enabled: [true] } }, event: withDetail({ enabled: 'true' }), expected: false },

  // ---- [arrays] ----
  {
    name: '[arrays] event array matches when it intersects the pattern array',
    pattern: {
      resources: [
        'arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f',
        'arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f',
        'arn:aws:ec2:us-east-1:444455556666:instance/i-b188560f',
      ],
    },
    event: {
      ...ec2Event,
      resources: [
        'arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:eb56d16b-bbf0-401d-b893-d5978ed4a025:autoScalingGroupName/ASGTerminate',
        'arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f',
      ],
    },
    expected: true,
  },
  {
    name: '[arrays] no element of the event array is in the pattern array',
    pattern: { resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f'] },
    event: ec2Event,
    expected: false,
  },
  { name: '[arrays] operators apply to each element of an event array', pattern: { detail: { tags: [{ prefix: 'env:' }] } }, event: withDetail({ tags: ['team:a', 'env:prod'] }), expected: true },
  {
    name: '[ruler] a nested pattern matches objects inside an event array',
    pattern: { detail: { employees: { firstName: ['Anna'] } } },
    event: withDetail({ employees: [{ firstName: 'John', lastName: 'Doe' }, { firstName: 'Anna', lastName: 'Smith' }] }),
    expected: true,
  },
  {
    name: '[ruler] fields from different elements of one array are not combined',
    pattern: { detail: { employees: { firstName: ['Anna'], lastName: ['Doe'] } } },
    event: withDetail({ employees: [{ firstName: 'John', lastName: 'Doe' }, { firstName: 'Anna', lastName: 'Smith' }] }),
    expected: false,
  },

  // ---- [null] null values and empty strings ----
  {
    name: '[null] [""] matches an empty string',
    pattern: { detail: { eventVersion: [''] } },
    event: withDetail({ eventVersion: '', responseElements: null }),
    expected: true,
  },
  {
    name: '[null] [null] matches a null value',
    pattern: { detail: { responseElements: [null] } },
    event: withDetail({ eventVersion: '', responseElements: null }),
    expected: true,
  },
  { name: '[null] empty string and null are not interchangeable ([""] vs null)', pattern: { detail: { responseElements: [''] } }, event: withDetail({ responseElements: null }), expected: false },
  { name: '[null] empty string and null are not interchangeable ([null] vs "")', pattern: { detail: { eventVersion: [null] } }, event: withDetail({ eventVersion: '' }), expected: false },
  { name: '[null] [null] does not match a missing field', pattern: { detail: { responseElements: [null] } }, event: withDetail({}), expected: false },

  // ---- [filtering] prefix ----
  { name: '[filtering] prefix on time', pattern: { time: [{ prefix: '2017-10-02' }] }, event: ec2Event, expected: true },
  { name: '[filtering] prefix on time: other day', pattern: { time: [{ prefix: '2017-10-03' }] }, event: ec2Event, expected: false },
  { name: '[filtering] prefix only works on strings', pattern: { detail: { 'c-count': [{ prefix: '5' }] } }, event: ec2Event, expected: false },
  { name: '[operators] prefix "us-" on region', pattern: { region: [{ prefix: 'us-' }] }, event: ec2Event, expected: true },
  { name: '[filtering] prefix with equals-ignore-case: EVENTBRIDGE starts with EventB', pattern: { detail: { service: [{ prefix: { 'equals-ignore-case': 'EventB' } }] } }, event: withDetail({ service: 'EVENTBRIDGE' }), expected: true },
  { name: '[filtering] prefix with equals-ignore-case: lambda does not', pattern: { detail: { service: [{ prefix: { 'equals-ignore-case': 'EventB' } }] } }, event: withDetail({ service: 'lambda' }), expected: false },

  // ---- [filtering] suffix ----
  { name: '[filtering] suffix .png', pattern: { detail: { FileName: [{ suffix: '.png' }] } }, event: withDetail({ FileName: 'image.png' }), expected: true },
  { name: '[filtering] suffix .png vs .jpg', pattern: { detail: { FileName: [{ suffix: '.png' }] } }, event: withDetail({ FileName: 'image.jpg' }), expected: false },
  { name: '[filtering] suffix is case sensitive', pattern: { detail: { FileName: [{ suffix: '.png' }] } }, event: withDetail({ FileName: 'IMAGE.PNG' }), expected: false },
  { name: '[filtering] suffix with equals-ignore-case matches .PNG', pattern: { detail: { FileName: [{ suffix: { 'equals-ignore-case': '.png' } }] } }, event: withDetail({ FileName: 'IMAGE.PNG' }), expected: true },

  // ---- [filtering] anything-but ----
  { name: '[filtering] anything-but string: running is not initializing', pattern: { detail: { state: [{ 'anything-but': 'initializing' }] } }, event: ec2Event, expected: true },
  { name: '[filtering] anything-but string: initializing excluded', pattern: { detail: { state: [{ 'anything-but': 'initializing' }] } }, event: withDetail({ state: 'initializing' }), expected: false },
  { name: '[filtering] anything-but number: 301.8 is not 123', pattern: { detail: { 'x-limit': [{ 'anything-but': 123 }] } }, event: ec2Event, expected: true },
  { name: '[filtering] anything-but number: 123 excluded', pattern: { detail: { 'x-limit': [{ 'anything-but': 123 }] } }, event: withDetail({ 'x-limit': 123 }), expected: false },
  { name: '[filtering] anything-but list of strings: stopped excluded', pattern: { detail: { state: [{ 'anything-but': ['stopped', 'overloaded'] }] } }, event: withDetail({ state: 'stopped' }), expected: false },
  { name: '[filtering] anything-but list of strings: running allowed', pattern: { detail: { state: [{ 'anything-but': ['stopped', 'overloaded'] }] } }, event: ec2Event, expected: true },
  { name: '[filtering] anything-but list of numbers: 300.0 excluded', pattern: { detail: { 'x-limit': [{ 'anything-but': [100, 200, 300] }] } }, event: JSON.parse('{"detail": {"x-limit": 300.0}}'), expected: false },
  { name: '[filtering] anything-but list of numbers: 301.8 allowed', pattern: { detail: { 'x-limit': [{ 'anything-but': [100, 200, 300] }] } }, event: ec2Event, expected: true },
  { name: '[filtering] anything-but prefix: initializing starts with init', pattern: { detail: { state: [{ 'anything-but': { prefix: 'init' } }] } }, event: withDetail({ state: 'initializing' }), expected: false },
  { name: '[filtering] anything-but prefix: running does not', pattern: { detail: { state: [{ 'anything-but': { prefix: 'init' } }] } }, event: ec2Event, expected: true },
  { name: '[operators] anything-but prefix "us-" on region us-east-1', pattern: { region: [{ 'anything-but': { prefix: 'us-' } }] }, event: ec2Event, expected: false },
  { name: '[filtering] anything-but suffix: a .png file is excluded', pattern: { detail: { FileName: [{ 'anything-but': { suffix: '.png' } }] } }, event: withDetail({ FileName: 'photo.png' }), expected: false },
  { name: '[filtering] anything-but suffix: a .txt file is allowed', pattern: { detail: { FileName: [{ 'anything-but': { suffix: '.png' } }] } }, event: withDetail({ FileName: 'notes.txt' }), expected: true },
  { name: '[filtering] anything-but equals-ignore-case: INITIALIZING excluded', pattern: { detail: { state: [{ 'anything-but': { 'equals-ignore-case': 'initializing' } }] } }, event: withDetail({ state: 'INITIALIZING' }), expected: false },
  { name: '[filtering] anything-but equals-ignore-case: running allowed', pattern: { detail: { state: [{ 'anything-but': { 'equals-ignore-case': 'initializing' } }] } }, event: ec2Event, expected: true },
  { name: '[filtering] anything-but equals-ignore-case list: Stopped excluded', pattern: { detail: { state: [{ 'anything-but': { 'equals-ignore-case': ['stopped', 'overloaded'] } }] } }, event: withDetail({ state: 'Stopped' }), expected: false },
  { name: '[filtering] anything-but wildcard: a path with /lib/ excluded', pattern: { detail: { FilePath: [{ 'anything-but': { wildcard: '*/lib/*' } }] } }, event: withDetail({ FilePath: '/usr/lib/libc.so' }), expected: false },
  { name: '[filtering] anything-but wildcard: a path without /lib/ allowed', pattern: { detail: { FilePath: [{ 'anything-but': { wildcard: '*/lib/*' } }] } }, event: withDetail({ FilePath: '/usr/bin/env' }), expected: true },
  { name: '[filtering] anything-but wildcard list: /bin/ excluded too', pattern: { detail: { FilePath: [{ 'anything-but': { wildcard: ['*/lib/*', '*/bin/*'] } }] } }, event: withDetail({ FilePath: '/usr/bin/env' }), expected: false },
  { name: '[ruler] anything-but does not match a missing field', pattern: { detail: { state: [{ 'anything-but': 'initializing' }] } }, event: withDetail({}), expected: false },
  { name: '[arrays] anything-but matches if any element of the event array is allowed', pattern: { detail: { state: [{ 'anything-but': 'initializing' }] } }, event: withDetail({ state: ['initializing', 'running'] }), expected: true },

  // ---- [filtering] numeric ----
  {
    name: '[filtering] numeric: >0 <=5, <10 and =3.018e2 all hold',
    pattern: { detail: { 'c-count': [{ numeric: ['>', 0, '<=', 5] }], 'd-count': [{ numeric: ['<', 10] }], 'x-limit': [{ numeric: ['=', 3.018e2] }] } },
    event: ec2Event,
    expected: true,
  },
  {
    name: '[filtering] numeric: c-count 6 is outside (0, 5]',
    pattern: { detail: { 'c-count': [{ numeric: ['>', 0, '<=', 5] }], 'd-count': [{ numeric: ['<', 10] }] } },
    event: withDetail({ 'c-count': 6, 'd-count': 3 }),
    expected: false,
  },
  { name: '[filtering] numeric only matches JSON numbers, not the string "5"', pattern: { detail: { 'c-count': [{ numeric: ['>', 0] }] } }, event: withDetail({ 'c-count': '5' }), expected: false },
  { name: '[operators] numeric >= includes the bound', pattern: { detail: { 'c-count': [{ numeric: ['>=', 5] }] } }, event: ec2Event, expected: true },
  { name: '[operators] numeric > excludes the bound', pattern: { detail: { 'c-count': [{ numeric: ['>', 5] }] } }, event: ec2Event, expected: false },
  { name: '[operators] numeric range with >= and <', pattern: { detail: { 'd-count': [{ numeric: ['>=', 3, '<', 4] }] } }, event: ec2Event, expected: true },
  { name: '[operators] numeric = compares numerically (300 vs 300.0)', pattern: { detail: { price: [{ numeric: ['=', 300] }] } }, event: JSON.parse('{"detail": {"price": 300.0}}'), expected: true },

  // ---- [filtering] IP address matching ----
  { name: '[filtering] cidr 10.0.0.0/24 contains 10.0.0.33', pattern: { detail: { 'source-ip': [{ cidr: '10.0.0.0/24' }] } }, event: ec2Event, expected: true },
  { name: '[filtering] cidr 10.0.0.0/24 does not contain 10.0.1.1', pattern: { detail: { 'source-ip': [{ cidr: '10.0.0.0/24' }] } }, event: withDetail({ 'source-ip': '10.0.1.1' }), expected: false },
  { name: '[filtering] cidr works with IPv6 (2001:db8::/32)', pattern: { detail: { 'source-ip': [{ cidr: '2001:db8::/32' }] } }, event: withDetail({ 'source-ip': '2001:db8:85a3::8a2e:370:7334' }), expected: true },
  { name: '[filtering] cidr IPv6 outside the range', pattern: { detail: { 'source-ip': [{ cidr: '2001:db8::/32' }] } }, event: withDetail({ 'source-ip': '2001:db9::1' }), expected: false },
  { name: '[filtering] cidr does not match a value that is not an IP address', pattern: { detail: { 'source-ip': [{ cidr: '10.0.0.0/8' }] } }, event: withDetail({ 'source-ip': 'example.com' }), expected: false },
  { name: '[filtering] an IPv4 range never contains an IPv6 address', pattern: { detail: { 'source-ip': [{ cidr: '0.0.0.0/0' }] } }, event: withDetail({ 'source-ip': '::1' }), expected: false },

  // ---- [filtering] exists ----
  { name: '[filtering] exists true: c-count is present', pattern: { detail: { 'c-count': [{ exists: true }] } }, event: ec2Event, expected: true },
  { name: '[filtering] exists true: c-count is missing', pattern: { detail: { 'c-count': [{ exists: true }] } }, event: withDetail({ state: 'running' }), expected: false },
  { name: '[filtering] exists false: no detail.c-count field', pattern: { detail: { 'c-count': [{ exists: false }] } }, event: withDetail({ state: ['initializing', 'running'] }), expected: true },
  { name: '[filtering] exists false: c-count is present', pattern: { detail: { 'c-count': [{ exists: false }] } }, event: ec2Event, expected: false },
  {
    name: '[filtering] exists false also matches when c-count is an object (not a leaf)',
    pattern: { detail: { 'c-count': [{ exists: false }] } },
    event: withDetail({ state: ['initializing', 'running'], 'c-count': { c1: 100 } }),
    expected: true,
  },
  { name: '[filtering] exists true does not match an object (leaf nodes only)', pattern: { detail: { 'c-count': [{ exists: true }] } }, event: withDetail({ 'c-count': { c1: 100 } }), expected: false },
  { name: '[ruler] exists true matches a null value (null is a value)', pattern: { detail: { responseElements: [{ exists: true }] } }, event: withDetail({ responseElements: null }), expected: true },

  // ---- [operators] equals-ignore-case ----
  { name: '[operators] equals-ignore-case alice matches Alice', pattern: { detail: { Name: [{ 'equals-ignore-case': 'alice' }] } }, event: withDetail({ Name: 'Alice' }), expected: true },
  { name: '[operators] equals-ignore-case is a whole-value match', pattern: { detail: { Name: [{ 'equals-ignore-case': 'alice' }] } }, event: withDetail({ Name: 'Alicia' }), expected: false },

  // ---- [operators] wildcard ----
  { name: '[operators] wildcard dir/*.png matches dir/abc.png', pattern: { detail: { FileName: [{ wildcard: 'dir/*.png' }] } }, event: withDetail({ FileName: 'dir/abc.png' }), expected: true },
  { name: '[operators] wildcard * also spans "/" (dir/sub/abc.png)', pattern: { detail: { FileName: [{ wildcard: 'dir/*.png' }] } }, event: withDetail({ FileName: 'dir/sub/abc.png' }), expected: true },
  { name: '[operators] wildcard dir/*.png does not match dir/abc.jpg', pattern: { detail: { FileName: [{ wildcard: 'dir/*.png' }] } }, event: withDetail({ FileName: 'dir/abc.jpg' }), expected: false },
  { name: '[operators] wildcard * matches an empty run', pattern: { detail: { FileName: [{ wildcard: 'dir/*' }] } }, event: withDetail({ FileName: 'dir/' }), expected: true },
  { name: '[operators] wildcard on an ARN with two stars', pattern: { resources: [{ wildcard: 'arn:aws:ec2:*:123456789012:instance/*' }] }, event: ec2Event, expected: true },
  { name: '[operators] wildcard \\* is a literal star', pattern: { detail: { expr: [{ wildcard: 'a\\*b' }] } }, event: withDetail({ expr: 'a*b' }), expected: true },
  { name: '[operators] wildcard \\* does not act as a wildcard', pattern: { detail: { expr: [{ wildcard: 'a\\*b' }] } }, event: withDetail({ expr: 'axxb' }), expected: false },
  { name: '[operators] wildcard only works on strings', pattern: { detail: { 'c-count': [{ wildcard: '*' }] } }, event: ec2Event, expected: false },

  // ---- [operators] $or ----
  {
    name: '[operators] $or in detail: d-count < 10 holds',
    pattern: { detail: { $or: [{ 'c-count': [{ numeric: ['>', 0, '<=', 5] }] }, { 'd-count': [{ numeric: ['<', 10] }] }, { 'x-limit': [{ numeric: ['=', 3.018e2] }] }] } },
    event: withDetail({ 'c-count': 100, 'd-count': 3 }),
    expected: true,
  },
  {
    name: '[operators] $or in detail: no alternative holds',
    pattern: { detail: { $or: [{ 'c-count': [{ numeric: ['>', 0, '<=', 5] }] }, { 'd-count': [{ numeric: ['<', 10] }] }, { 'x-limit': [{ numeric: ['=', 3.018e2] }] }] } },
    event: withDetail({ 'c-count': 100, 'd-count': 30, 'x-limit': 1 }),
    expected: false,
  },
  {
    name: '[operators] $or at the top level, with an AND next to it',
    pattern: { source: ['aws.ec2'], $or: [{ 'detail-type': ['EC2 Spot Instance Interruption Warning'] }, { detail: { state: ['running'] } }] },
    event: ec2Event,
    expected: true,
  },
  {
    name: '[operators] $or at the top level: the AND next to it fails',
    pattern: { source: ['aws.s3'], $or: [{ 'detail-type': ['EC2 Spot Instance Interruption Warning'] }, { detail: { state: ['running'] } }] },
    event: ec2Event,
    expected: false,
  },
  {
    name: '[ruler] $or nested inside an $or alternative',
    pattern: {
      source: ['aws.ec2'],
      $or: [{ region: ['eu-west-1'] }, { account: ['012345679012'], $or: [{ detail: { 'c-count': [1] } }, { detail: { 'd-count': [3] } }] }],
    },
    event: ec2Event,
    expected: true,
  },

  // ---- [filtering] complex example ----
  {
    name: '[filtering] complex example: prefix, anything-but, numeric and cidr together',
    pattern: {
      time: [{ prefix: '2017-10-02' }],
      detail: {
        state: [{ 'anything-but': 'initializing' }],
        'c-count': [{ numeric: ['>', 0, '<=', 5] }],
        'd-count': [{ numeric: ['<', 10] }],
        'x-limit': [{ 'anything-but': [100, 200, 300] }],
        'source-ip': [{ cidr: '10.0.0.0/8' }],
      },
    },
    event: ec2Event,
    expected: true,
  },
  {
    name: '[operators] several matchers in one array are an OR (exists false or a value)',
    pattern: { detail: { 'launch-type': [{ exists: false }, 'FARGATE'] } },
    event: ec2Event,
    expected: true,
  },
];

describe('matchesPattern: cases from the EventBridge documentation', () => {
  it.each(cases)('$name', ({ pattern, event, expected }) => {
    expect(matchesPattern(pattern, event)).toBe(expected);
  });

  it('a compiled pattern can be reused for many events', () => {
    const compiled = compilePattern({ detail: { state: ['running'] } });
    expect(compiled.matches(ec2Event)).toBe(true);
    expect(compiled.matches(withDetail({ state: 'stopped' }))).toBe(false);
    expect(compiled.matches('not an event')).toBe(false);
  });
});

interface InvalidCase {
  readonly name: string;
  readonly pattern: unknown;
  /** The JSONPath the error must name. */
  readonly path: string;
  /** A fragment the message must contain (what rule was broken). */
  readonly says: string;
}

const invalidCases: InvalidCase[] = [
  { name: '[syntax] a leaf must be an array ({"source": "x"})', pattern: { source: 'aws.ec2' }, path: '$.source', says: 'wrap the value in an array' },
  { name: '[syntax] a pattern must be an object', pattern: ['aws.ec2'], path: '$', says: 'must be a JSON object' },
  { name: '[syntax] a JSON string is not a pattern until parsed', pattern: '{"source": ["aws.ec2"]}', path: '$', says: 'parse the JSON text first' },
  { name: '[ruler] empty pattern object', pattern: {}, path: '$', says: 'empty objects' },
  { name: '[ruler] empty nested object', pattern: { detail: {} }, path: '$.detail', says: 'empty objects' },
  { name: '[ruler] empty value array', pattern: { source: [] }, path: '$.source', says: 'empty arrays' },
  { name: '[ruler] arrays inside a value array', pattern: { source: [['aws.ec2']] }, path: '$.source[0]', says: 'got array' },
  { name: '[operators] unknown operator', pattern: { detail: { type: [{ contains: 'Normal' }] } }, path: '$.detail.type[0]', says: 'unknown operator "contains"' },
  { name: '[ruler] an operator object has exactly one key', pattern: { source: [{ prefix: 'a', suffix: 'b' }] }, path: '$.source[0]', says: 'exactly one key' },
  { name: '[operators] operator outside an array', pattern: { detail: { state: { prefix: 'init' } } }, path: '$.detail.state.prefix', says: 'wrap it in the field\'s array' },
  { name: '[filtering] prefix must be a string', pattern: { detail: { state: [{ prefix: 5 }] } }, path: '$.detail.state[0].prefix', says: 'must be a string' },
  { name: '[filtering] prefix object only takes equals-ignore-case', pattern: { source: [{ prefix: { wildcard: 'a*' } }] }, path: '$.source[0].prefix.wildcard', says: 'equals-ignore-case' },
  { name: '[filtering] numeric: unknown operator', pattern: { detail: { n: [{ numeric: ['!=', 5] }] } }, path: '$.detail.n[0].numeric[0]', says: 'unknown numeric operator "!="' },
  { name: '[filtering] numeric: value must be a JSON number', pattern: { detail: { n: [{ numeric: ['<', '10'] }] } }, path: '$.detail.n[0].numeric[1]', says: 'must be a number' },
  { name: '[filtering] numeric: empty range', pattern: { detail: { n: [{ numeric: ['>', 5, '<', 1] }] } }, path: '$.detail.n[0].numeric', says: 'must be less than' },
  { name: '[filtering] numeric: range must be lower bound then upper bound', pattern: { detail: { n: [{ numeric: ['<', 5, '>', 1] }] } }, path: '$.detail.n[0].numeric[0]', says: 'must start with ">" or ">="' },
  { name: '[filtering] numeric: "=" cannot start a range', pattern: { detail: { n: [{ numeric: ['=', 1, '<', 5] }] } }, path: '$.detail.n[0].numeric[0]', says: 'must start with' },
  { name: '[filtering] numeric: beyond the documented ±5.0e9', pattern: { detail: { n: [{ numeric: ['>', 6e9] }] } }, path: '$.detail.n[0].numeric[1]', says: '-5.0e9 to 5.0e9' },
  { name: '[filtering] numeric: must be an array', pattern: { detail: { n: [{ numeric: 5 }] } }, path: '$.detail.n[0].numeric', says: 'must be an array' },
  { name: '[filtering] exists takes a boolean', pattern: { detail: { n: [{ exists: 'true' }] } }, path: '$.detail.n[0].exists', says: 'true or false' },
  { name: '[filtering] anything-but list cannot mix strings and numbers', pattern: { detail: { s: [{ 'anything-but': ['a', 1] }] } }, path: '$.detail.s[0]["anything-but"]', says: 'only strings or only numbers' },
  { name: '[filtering] anything-but list cannot be empty', pattern: { detail: { s: [{ 'anything-but': [] }] } }, path: '$.detail.s[0]["anything-but"]', says: 'must not be empty' },
  { name: '[filtering] anything-but null is not allowed', pattern: { detail: { s: [{ 'anything-but': null }] } }, path: '$.detail.s[0]["anything-but"]', says: 'got null' },
  { name: '[filtering] anything-but prefix must not be empty', pattern: { detail: { s: [{ 'anything-but': { prefix: '' } }] } }, path: '$.detail.s[0]["anything-but"].prefix', says: 'must not be an empty string' },
  { name: '[filtering] anything-but object with an unsupported operator', pattern: { detail: { s: [{ 'anything-but': { numeric: ['>', 1] } }] } }, path: '$.detail.s[0]["anything-but"].numeric', says: 'not "numeric"' },
  { name: '[filtering] cidr needs a prefix length', pattern: { detail: { ip: [{ cidr: '10.0.0.0' }] } }, path: '$.detail.ip[0].cidr', says: 'not CIDR notation' },
  { name: '[filtering] cidr prefix length too long for IPv4', pattern: { detail: { ip: [{ cidr: '10.0.0.0/33' }] } }, path: '$.detail.ip[0].cidr', says: 'from 0 to 32' },
  { name: '[filtering] cidr address must be an IP address', pattern: { detail: { ip: [{ cidr: 'banana/8' }] } }, path: '$.detail.ip[0].cidr', says: 'not an IPv4 or IPv6 address' },
  { name: '[operators] wildcard: consecutive stars', pattern: { detail: { f: [{ wildcard: 'a**b' }] } }, path: '$.detail.f[0].wildcard', says: 'consecutive wildcard' },
  { name: '[operators] wildcard: backslash must escape * or \\', pattern: { detail: { f: [{ wildcard: 'a\\b' }] } }, path: '$.detail.f[0].wildcard', says: 'backslash must be followed' },
  { name: '[operators] anything-but wildcard list: consecutive stars', pattern: { detail: { f: [{ 'anything-but': { wildcard: ['*/lib/*', 'x**'] } }] } }, path: '$.detail.f[0]["anything-but"].wildcard[1]', says: 'consecutive wildcard' },
  { name: '[operators] $or needs at least two alternatives', pattern: { $or: [{ source: ['aws.ec2'] }] }, path: '$.$or', says: 'at least 2' },
  { name: '[operators] $or must be an array', pattern: { $or: { source: ['aws.ec2'] } }, path: '$.$or', says: 'must be an array' },
  { name: '[operators] $or alternatives must be objects', pattern: { detail: { $or: [{ a: ['x'] }, ['b']] } }, path: '$.detail.$or[1]', says: 'must be a pattern object' },
  { name: '[ruler] operator names are reserved inside $or', pattern: { $or: [{ numeric: [1] }, { prefix: ['a'] }] }, path: '$.$or[0].numeric', says: 'cannot be used as a field name' },
];

describe('compilePattern: invalid patterns', () => {
  it.each(invalidCases)('$name', ({ pattern, path, says }) => {
    let caught: unknown;
    try {
      compilePattern(pattern);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InvalidPatternError);
    const error = caught as InvalidPatternError;
    expect(error.path).toBe(path);
    expect(error.message).toContain(path);
    expect(error.message).toContain(says);
  });
});

describe('testPatternCommand', () => {
  let dir: string;
  const file = (name: string): string => join(dir, name);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'event-pattern-'));
    await writeFile(file('running.json'), JSON.stringify({ detail: { state: ['running'] } }));
    await writeFile(file('stopped.json'), JSON.stringify({ detail: { state: ['stopped'] } }));
    await writeFile(file('invalid-pattern.json'), JSON.stringify({ source: 'aws.ec2' }));
    await writeFile(file('event.json'), JSON.stringify(ec2Event));
    await writeFile(file('not-json.json'), '{"source": [');
    await writeFile(
      file('put-events-entry.json'),
      JSON.stringify({ Source: 'aws.ec2', DetailType: 'x', Detail: JSON.stringify({ state: 'running' }) }),
    );
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function run(args: string[], stdin?: string): Promise<{ code: number; out: string; err: string }> {
    let out = '';
    let err = '';
    const code = await testPatternCommand(args, {
      stdout: (s) => (out += s),
      stderr: (s) => (err += s),
      ...(stdin === undefined ? {} : { readStdin: async () => stdin }),
    });
    return { code, out, err };
  }

  it('prints true and returns 0 when the event matches', async () => {
    expect(await run([file('running.json'), file('event.json')])).toEqual({ code: 0, out: 'true\n', err: '' });
  });

  it('prints false and returns 0 when it does not', async () => {
    expect(await run([file('stopped.json'), file('event.json')])).toEqual({ code: 0, out: 'false\n', err: '' });
  });

  it('returns 2 with the path and the rule for an invalid pattern', async () => {
    const result = await run([file('invalid-pattern.json'), file('event.json')]);
    expect(result.code).toBe(2);
    expect(result.out).toBe('');
    expect(result.err).toContain('$.source');
    expect(result.err).toContain('must be an array');
  });

  it('reads the event from standard input with "-"', async () => {
    expect(await run([file('running.json'), '-'], JSON.stringify(ec2Event))).toEqual({ code: 0, out: 'true\n', err: '' });
  });

  it('reads the pattern from standard input with "-"', async () => {
    expect(await run(['-', file('event.json')], '{"source": ["aws.s3"]}')).toEqual({ code: 0, out: 'false\n', err: '' });
  });

  it('returns 2 for a file that is not JSON', async () => {
    const result = await run([file('not-json.json'), file('event.json')]);
    expect(result.code).toBe(2);
    expect(result.err).toContain('not valid JSON');
  });

  it('returns 2 for a file that cannot be read', async () => {
    const result = await run([file('missing.json'), file('event.json')]);
    expect(result.code).toBe(2);
    expect(result.err).toContain('cannot read PATTERN_FILE');
  });

  it('tests a PutEvents entry (a render line) as the event EventBridge would deliver, and says so', async () => {
    const result = await run([file('running.json'), file('put-events-entry.json')]);
    expect(result).toMatchObject({ code: 0, out: 'true\n' });
    expect(result.err).toContain('PutEvents entry');
  });

  it('returns 2 for a PutEvents entry whose Detail is not JSON: the event it would be is not as delivered', async () => {
    const result = await run([file('running.json'), '-'], JSON.stringify({ Source: 'aws.ec2', DetailType: 'x', Detail: 'not json' }));
    expect(result.code).toBe(2);
    expect(result.err).toContain('detail-type');
    expect(result.err).toContain('PutEvents entry');
  });

  it.each([[[]], [['only-one.json']], [['a', 'b', 'c']], [['-', '-']]])('returns 2 with usage for %j', async (args) => {
    const result = await run(args);
    expect(result.code).toBe(2);
    expect(result.err).toContain('usage: test-pattern');
  });
});
