import { describe, expect, it } from 'vitest';
import { compareKeys, parseListPage } from '../../../src/sync/listing';

const HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n';

/** A page the way S3 documents it: pretty-printed, owner, checksum and storage class fields. */
const S3_PAGE = `${HEAD}<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>vendor-data</Name>
  <Prefix>ref/</Prefix>
  <KeyCount>3</KeyCount>
  <MaxKeys>3</MaxKeys>
  <IsTruncated>true</IsTruncated>
  <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=&amp;x</NextContinuationToken>
  <Contents>
    <Key>ref/a&amp;b &lt;c&gt; &quot;d&quot; &apos;e&apos;.csv</Key>
    <LastModified>2026-11-30T06:20:01.000Z</LastModified>
    <ETag>&quot;9b2cf535f27731c974343645a3985328&quot;</ETag>
    <ChecksumAlgorithm>CRC64NVME</ChecksumAlgorithm>
    <Size>1048576</Size>
    <Owner><ID>abc</ID><DisplayName>x &amp; y</DisplayName></Owner>
    <StorageClass>STANDARD</StorageClass>
  </Contents>
  <Contents>
    <Key>ref/Z&#252;rich &#x20AC;/&#x1F600; tab&#9;.bin</Key>
    <LastModified>2026-11-30T06:20:02.000Z</LastModified>
    <ETag>&quot;0b6e4b7a1f1c5a6e3c3c1f1c5a6e3c3c-12&quot;</ETag>
    <Size>805306368</Size>
    <StorageClass>STANDARD</StorageClass>
  </Contents>
  <Contents><Key>ref/empty</Key><ETag>"d41d8cd98f00b204e9800998ecf8427e"</ETag><Size>0</Size></Contents>
</ListBucketResult>`;

describe('parseListPage', () => {
  it('reads keys (entities and character references decoded), sizes, ETags and the token', () => {
    expect(parseListPage(S3_PAGE)).toEqual({
      objects: [
        { key: `ref/a&b <c> "d" 'e'.csv`, size: 1048576, etag: '9b2cf535f27731c974343645a3985328' },
        {
          key: 'ref/Zürich €/😀 tab\t.bin',
          size: 805306368,
          etag: '0b6e4b7a1f1c5a6e3c3c1f1c5a6e3c3c-12',
        },
        { key: 'ref/empty', size: 0, etag: 'd41d8cd98f00b204e9800998ecf8427e' },
      ],
      prefixes: [],
      truncated: true,
      nextToken: '1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=&x',
    });
  });

  it('keeps spaces at the ends of a key and reads common prefixes', () => {
    const xml = `<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><Prefix></Prefix><KeyCount>3</KeyCount><Delimiter>/</Delimiter><IsTruncated>false</IsTruncated><Contents><Key> padded </Key><ETag>"e"</ETag><Size>5</Size></Contents><CommonPrefixes><Prefix>a b/</Prefix></CommonPrefixes><CommonPrefixes><Prefix>x&amp;y/</Prefix></CommonPrefixes></ListBucketResult>`;
    expect(parseListPage(xml)).toEqual({
      objects: [{ key: ' padded ', size: 5, etag: 'e' }],
      prefixes: ['a b/', 'x&y/'],
      truncated: false,
      nextToken: undefined,
    });
  });

  it('ETags in every quoting form read as the SDK reads them (the common form takes a shortcut)', () => {
    const page = (etag: string): string =>
      `${HEAD}<ListBucketResult><KeyCount>1</KeyCount><IsTruncated>false</IsTruncated><Contents><Key>k</Key><Size>1</Size><ETag>${etag}</ETag></Contents></ListBucketResult>`;
    for (const [raw, want] of [
      ['&quot;9b2cf535f27731c974343645a3985328&quot;', '9b2cf535f27731c974343645a3985328'],
      ['&quot;9b2cf535f27731c974343645a3985328-3&quot;', '9b2cf535f27731c974343645a3985328-3'],
      ['&quot;W/abc&quot;', 'W/abc'],
      ['W/&quot;abc&quot;', 'abc'],
      ['&quot;a&amp;b&quot;', 'a&b'],
      ['"abc"', 'abc'],
      ['&quot;&quot;', ''],
    ]) {
      expect(parseListPage(page(raw))?.objects[0].etag, raw).toBe(want);
    }
  });

  it('an empty result', () => {
    const xml = `${HEAD}<ListBucketResult><Name>b</Name><KeyCount>0</KeyCount><IsTruncated>false</IsTruncated></ListBucketResult>`;
    expect(parseListPage(xml)).toEqual({ objects: [], prefixes: [], truncated: false, nextToken: undefined });
  });

  // Each of these goes to the SDK's deserializer instead (undefined), never half-read.
  it.each([
    ['an error document', `${HEAD}<Error><Code>AccessDenied</Code><Message>no</Message></Error>`],
    ['CDATA', S3_PAGE.replace('<Key>ref/empty</Key>', '<Key><![CDATA[ref/empty]]></Key>')],
    ['a comment', S3_PAGE.replace('<Name>', '<!-- x --><Name>')],
    ['a raw carriage return', S3_PAGE.replace('ref/empty', 'ref/em\r\npty')],
    ['an unknown entity', S3_PAGE.replace('ref/empty', 'ref/&nbsp;')],
    ['a bare ampersand', S3_PAGE.replace('ref/empty', 'ref/a & b')],
    ['a namespace prefix on elements', S3_PAGE.replace(/<(\/?)Contents>/g, '<$1s3:Contents>')],
    ['KeyCount that does not add up', S3_PAGE.replace('<KeyCount>3', '<KeyCount>4')],
    ['a Contents without a Size', S3_PAGE.replace('<Size>0</Size>', '')],
    ['a Size that is not a number', S3_PAGE.replace('<Size>0</Size>', '<Size>-1</Size>')],
    ['no IsTruncated', S3_PAGE.replace('<IsTruncated>true</IsTruncated>', '')],
    [
      'a Contents element with attributes',
      S3_PAGE.replace('<Contents><Key>ref/empty', '<Contents a="1"><Key>ref/empty'),
    ],
    ['a ListAllMyBucketsResult', `${HEAD}<ListAllMyBucketsResult><Buckets/></ListAllMyBucketsResult>`],
  ])('leaves %s to the SDK', (_what, xml) => {
    expect(parseListPage(xml)).toBeUndefined();
  });
});

describe('compareKeys', () => {
  it('orders like S3 (UTF-8 bytes), not like UTF-16 units', () => {
    const alphabet = [
      'a',
      'b',
      '/',
      '-',
      ' ',
      'é',
      '\u00ff',
      '\u4e00',
      '\ue000',
      '\uffff',
      '😀',
      '\u{10ffff}',
      '\u{10000}',
    ];
    let x = 7;
    const rnd = (n: number): number => (x = (x * 1103515245 + 12345) % 2 ** 31) % n;
    const keys = Array.from({ length: 400 }, () =>
      Array.from({ length: 1 + rnd(5) }, () => alphabet[rnd(alphabet.length)]).join(''),
    );
    const byBytes = [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    expect([...keys].sort(compareKeys)).toEqual(byBytes);
    // The case JavaScript's own comparison gets wrong.
    expect('\uffff' < '😀').toBe(false);
    expect(compareKeys('\uffff', '😀')).toBeLessThan(0);
    expect(compareKeys('a', 'a')).toBe(0);
    expect(compareKeys('a', 'a/')).toBeLessThan(0);
  });
});
