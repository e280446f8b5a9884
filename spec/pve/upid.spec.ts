import assert from 'node:assert/strict';

import { createTaskStatusPath, parseUpid } from '../../lib/pve/upid';

describe('parseUpid', () => {
  const real = 'UPID:proxmox2:000D7AA2:08D5A17C:63DF62A5:vzclone:200:root@pam!api_token:';

  it('should decode a real vzclone UPID', () => {
    assert.deepEqual(parseUpid(real), {
      upid: real,
      node: 'proxmox2',
      pid: 0xd7aa2,
      pstart: 0x8d5a17c,
      starttime: 0x63df62a5,
      type: 'vzclone',
      id: '200',
      user: 'root@pam!api_token',
    });
  });

  it('should accept a 9-digit pstart and an empty id', () => {
    assert.equal(parseUpid('UPID:pve1:00001234:123456789:63DF62A5:vzdump::root@pam:')?.id, '');
  });

  it('should refuse anything PVE would not decode', () => {
    const bad = [
      real.slice(0, -1),
      'UPID:pve1/../x:000D7AA2:08D5A17C:63DF62A5:vzclone:200:root@pam:',
      'UPID:pve1:000D7AA:08D5A17C:63DF62A5:vzclone:200:root@pam:',
      'UPID:-pve1:000D7AA2:08D5A17C:63DF62A5:vzclone:200:root@pam:',
      'UPID:pve1:000D7AA2:08D5A17C:63DF62A5:vz/clone:200:root@pam:',
      'UPID:pve1:000D7AA2:08D5A17C:63DF62A5:vzclone:200:root @pam:',
      'UPID:pve1:000D7AA2:08D5A17C:63DF62A5:vzclone:200::',
      `${real}\n`,
      '',
      42,
      null,
    ];
    for (const text of bad) assert.equal(parseUpid(text), undefined, String(text));
  });

  it('should build the status path on the UPID node with the UPID escaped', () => {
    const upid = parseUpid(real);
    assert.ok(upid);
    assert.equal(
      createTaskStatusPath(upid),
      '/api2/json/nodes/proxmox2/tasks/UPID%3Aproxmox2%3A000D7AA2%3A08D5A17C%3A63DF62A5%3Avzclone%3A200%3Aroot%40pam!api_token%3A/status',
    );
  });
});
