"""Clone through the proxy the way a proxmoxer user would: password login, then concurrent clones.

Usage: proxmoxer_clones.py PORT COUNT. Prints one JSON line: the UPIDs, or the first error.
"""
import json
import sys
from concurrent.futures import ThreadPoolExecutor

from proxmoxer import ProxmoxAPI


def main() -> None:
    port, count = int(sys.argv[1]), int(sys.argv[2])
    pve = ProxmoxAPI("127.0.0.1", port=port, user="root@pam", password="secret", verify_ssl=False)

    def clone(index: int) -> str:
        newid = 201 + index
        return pve.nodes("pve1").lxc(9000).clone.post(newid=newid, hostname=f"ct-{newid}", full=1)

    with ThreadPoolExecutor(max_workers=count) as pool:
        upids = list(pool.map(clone, range(count)))
    print(json.dumps({"upids": upids}))


if __name__ == "__main__":
    main()
