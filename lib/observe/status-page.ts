/**
 * The status page: one self-contained HTML document (inline CSS and script, no external
 * assets) that reads `queue` next to it every two seconds. Everything shown comes from the
 * JSON and is set as text, never as HTML, because `newid` and friends are whatever a client sent.
 */
export const STATUS_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>pve-clone-proxy</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #1d1d1f; }
  body { background: #fafafa; }
  h1 { font-size: 1.3rem; margin: 0 0 .25rem; }
  h2 { font-size: 1.05rem; margin: 1.5rem 0 .5rem; }
  #updated { color: #666; }
  #updated.stale { color: #b00020; }
  table { border-collapse: collapse; width: 100%; background: #fff; }
  th, td { text-align: left; padding: .3rem .6rem; border-bottom: 1px solid #e5e5e5; }
  th { font-weight: 600; background: #f0f0f0; }
  td.upid { font-family: ui-monospace, monospace; font-size: 12px; }
  .state-running { color: #0b6bcb; font-weight: 600; }
  .state-waiting { color: #8a6d00; }
  .state-ok { color: #1a7f37; }
  .state-warnings { color: #8a6d00; }
  .state-failed, .state-refused, .state-upstream-error, .state-unknown { color: #b00020; }
  .empty { color: #888; font-style: italic; }
</style>
</head>
<body>
<h1>pve-clone-proxy</h1>
<div id="updated">loading&hellip;</div>
<h2>Queue</h2>
<table id="queue">
  <thead><tr>
    <th>lane</th><th>state</th><th>newid</th><th>node</th><th>vmid</th><th>for</th>
    <th>upid</th><th>request</th>
  </tr></thead>
  <tbody></tbody>
</table>
<h2>Finished</h2>
<table id="finished">
  <thead><tr>
    <th>finished</th><th>outcome</th><th>newid</th><th>node</th><th>vmid</th><th>exitstatus</th>
    <th>waited</th><th>task</th><th>request</th>
  </tr></thead>
  <tbody></tbody>
</table>
<script>
(() => {
  const queueUrl = location.pathname.replace(/\\/status\\/?$/, '/queue');

  const seconds = (ms) => (ms === undefined || ms === null ? '' : (ms / 1000).toFixed(1) + ' s');

  function row(cells, state) {
    const tr = document.createElement('tr');
    tr.dataset.state = state;
    for (const [text, className] of cells) {
      const td = document.createElement('td');
      td.textContent = text === undefined || text === null ? '' : String(text);
      if (className) td.className = className;
      tr.append(td);
    }
    return tr;
  }

  function fill(id, rows, columns, emptyText) {
    const body = document.querySelector('#' + id + ' tbody');
    if (rows.length === 0) {
      const tr = document.createElement('tr');
      const td = document.createElement('td');
      td.colSpan = columns;
      td.className = 'empty';
      td.textContent = emptyText;
      tr.append(td);
      rows = [tr];
    }
    body.replaceChildren(...rows);
  }

  function render(queue) {
    const rows = [];
    for (const lane of queue.lanes) {
      const job = lane.inFlight;
      if (job) {
        rows.push(row([[lane.name], ['running', 'state-running'], [job.newid], [job.node],
          [job.vmid], [seconds(job.runningMs)], [job.upid, 'upid'], [job.requestId]], 'running'));
      }
      for (const waiting of lane.waiting) {
        rows.push(row([[lane.name], ['waiting', 'state-waiting'], [waiting.newid], [waiting.node],
          [waiting.vmid], [seconds(waiting.waitMs)], [''], [waiting.requestId]], 'waiting'));
      }
    }
    fill('queue', rows, 8, queue.closing ? 'shutting down: no clones taken' : 'no clones queued');

    const done = queue.finished.map((clone) => {
      const outcome = clone.reason ? clone.outcome + ' (' + clone.reason + ')' : clone.outcome;
      return row([[new Date(clone.finishedAt).toLocaleTimeString()],
        [outcome, 'state-' + clone.outcome], [clone.newid], [clone.node], [clone.vmid],
        [clone.exitstatus], [seconds(clone.waitMs)], [seconds(clone.taskMs)], [clone.requestId]],
        clone.outcome);
    });
    fill('finished', done, 9, 'no clones finished yet');
  }

  const updated = document.getElementById('updated');
  async function refresh() {
    try {
      const response = await fetch(queueUrl, { cache: 'no-store' });
      if (!response.ok) throw new Error('HTTP ' + response.status);
      const queue = await response.json();
      render(queue);
      updated.className = '';
      updated.textContent = 'updated ' + new Date(queue.at).toLocaleTimeString();
    } catch (error) {
      updated.className = 'stale';
      updated.textContent = 'cannot read ' + queueUrl + ': ' + error.message;
    } finally {
      setTimeout(refresh, 2000);
    }
  }
  refresh();
})();
</script>
</body>
</html>
`;
