import { describe, it, expect } from '@jest/globals';
import { parseNftCounters } from './nft-counters.js';

describe('parseNftCounters', () => {
  it('maps counter objects by name and ignores metainfo', () => {
    const json = JSON.stringify({
      nftables: [
        { metainfo: { version: '1.0.6', json_schema_version: 1 } },
        { counter: { family: 'inet', name: 'isp1', table: 'mwan', handle: 1, packets: 50, bytes: 3000 } },
        { counter: { family: 'inet', name: 'isp2', table: 'mwan', handle: 2, packets: 7, bytes: 420 } },
      ],
    });
    expect(parseNftCounters(json)).toEqual({ isp1: { packets: 50, bytes: 3000 }, isp2: { packets: 7, bytes: 420 } });
  });
});
