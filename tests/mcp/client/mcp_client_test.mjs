// Drives cistern-mcp with the official MCP TypeScript SDK client (pinned in package.json)
// while the real collector keeps accepting events.
//
// usage: node mcp_client_test.mjs <cistern-mcp> <db> <collector port> <expected-json>
//   expected-json: {"backlog": N, "devices": {"d1": n1, ...}} for the events already posted
// Exits 0 when every check passed; otherwise prints what failed and exits 1.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

const [binary, db, port, expectedJson] = process.argv.slice(2);
if (!binary || !db || !port || !expectedJson) {
  console.error('usage: mcp_client_test.mjs <cistern-mcp> <db> <port> <expected-json>');
  process.exit(2);
}
const expected = JSON.parse(expectedJson);
let failures = 0;

function check(ok, what, detail) {
  if (ok) {
    console.log(`ok   ${what}`);
  } else {
    failures++;
    console.log(`FAIL ${what}${detail === undefined ? '' : ': ' + JSON.stringify(detail)}`);
  }
}

// A successful tool result: isError false and text === JSON of structuredContent.
async function callOk(client, name, args = {}) {
  const r = await client.callTool({ name, arguments: args });
  check(r.isError !== true, `${name} succeeds`, r.content);
  check(JSON.stringify(JSON.parse(r.content[0].text)) === JSON.stringify(r.structuredContent),
        `${name} text matches structuredContent`);
  return r.structuredContent;
}

async function post(events) {
  const res = await fetch(`http://127.0.0.1:${port}/events`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(events),
  });
  if (res.status !== 200) throw new Error(`POST /events answered ${res.status}`);
}

const transport = new StdioClientTransport({
  command: binary,
  args: ['--db', db, '--max-rows', '50', '--query-timeout', '2s'],
  stderr: 'inherit',
});
const client = new Client({ name: 'cistern-mcp-test', version: '1.0.0' });
const timer = setTimeout(() => {
  console.log('FAIL the session took longer than 60 s');
  process.exit(1);
}, 60_000);

try {
  await client.connect(transport);  // initialize + notifications/initialized
  const info = client.getServerVersion();
  check(info?.name === 'cistern-mcp', 'serverInfo.name is cistern-mcp', info);
  check(client.getServerCapabilities()?.tools !== undefined, 'tools capability');
  check(typeof client.getInstructions() === 'string', 'instructions present');

  const { tools } = await client.listTools();
  const names = tools.map((t) => t.name).sort();
  check(JSON.stringify(names) ===
            JSON.stringify(['backlog_summary', 'describe_table', 'list_tables', 'query']),
        'tools/list names the four tools', names);
  check(tools.every((t) => t.inputSchema?.type === 'object' && t.annotations?.readOnlyHint),
        'every tool has an object inputSchema and readOnlyHint');

  const tables = await callOk(client, 'list_tables');
  const tableNames = tables.tables.map((t) => t.name);
  for (const t of ['event_log', 'events', 'pending_events', 'devices', 'upload_runs', 'meta']) {
    check(tableNames.includes(t), `list_tables has ${t}`, tableNames);
  }

  const events = await callOk(client, 'describe_table', { table: 'events' });
  check(events.columns.map((c) => c.name).join(',') ===
            'id,device_id,kind,payload_json,ts,uploaded_at',
        'describe_table events columns', events.columns);
  const runs = await callOk(client, 'describe_table', { table: 'upload_runs' });
  check(runs.indexes.some((i) => i.name === 'upload_runs_shipped' && i.partial),
        'describe_table shows the partial index of shipped ranges', runs.indexes);
  const missing = await client.callTool({ name: 'describe_table', arguments: { table: 'nope' } });
  check(missing.isError === true, 'describe_table of an unknown table is a tool error');

  let summary = await callOk(client, 'backlog_summary');
  check(summary.backlog === expected.backlog, 'backlog matches what was posted',
        [summary.backlog, expected.backlog]);
  const perDevice = Object.fromEntries(summary.pending_by_device.map((d) => [d.device_id, d.pending]));
  check(JSON.stringify(perDevice, Object.keys(perDevice).sort()) ===
            JSON.stringify(expected.devices, Object.keys(expected.devices).sort()),
        'pending per device matches', [perDevice, expected.devices]);
  check(summary.oldest_pending?.id === 1 && summary.oldest_pending.age_ms >= 0,
        'oldest pending event is id 1 with an age', summary.oldest_pending);
  check(summary.events_total === expected.backlog, 'events_total = max(id)');
  check(Array.isArray(summary.last_upload_runs), 'last_upload_runs is a list');

  const q = await callOk(client, 'query', {
    sql: 'SELECT device_id, count(*) AS n FROM events GROUP BY device_id ORDER BY device_id',
  });
  check(JSON.stringify(q.columns) === '["device_id","n"]', 'query columns', q.columns);
  check(JSON.stringify(q.rows) ===
            JSON.stringify(Object.keys(expected.devices).sort().map((d) => [d, expected.devices[d]])),
        'query rows match the posted counts', q.rows);
  const capped = await callOk(client, 'query', { sql: 'SELECT id FROM events', limit: 2 });
  check(capped.rows.length === 2 && capped.truncated === true, 'limit caps rows, truncated', capped);

  // Writes are refused and change nothing.
  const vacuumTarget = join(dirname(db), 'vacuum-copy.db');
  for (const sql of ['DELETE FROM event_log', 'SELECT 1; DELETE FROM event_log',
                     'PRAGMA user_version=5', `VACUUM INTO '${vacuumTarget}'`]) {
    const w = await client.callTool({ name: 'query', arguments: { sql } });
    check(w.isError === true && /refused/.test(w.content[0].text), `refused: ${sql}`, w.content);
  }
  check(!existsSync(vacuumTarget), 'VACUUM INTO wrote no file');
  const timeout = await client.callTool({
    name: 'query',
    arguments: { sql: 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) SELECT max(x) FROM c' },
  });
  check(timeout.isError === true && /timed out/.test(timeout.content[0].text),
        'an endless query times out', timeout.content);

  // The collector is live: new events show up in the next call.
  await post([{ device_id: 'late', kind: 't' }, { device_id: 'late', kind: 't' },
              { device_id: 'late', kind: 't' }]);
  summary = await callOk(client, 'backlog_summary');
  check(summary.backlog === expected.backlog + 3, 'backlog grew by the 3 events posted mid-session',
        summary.backlog);
  check(summary.pending_by_device.some((d) => d.device_id === 'late' && d.pending === 3),
        'the new device appears', summary.pending_by_device);
  const count = await callOk(client, 'query', { sql: 'SELECT count(*) FROM events' });
  check(count.rows[0][0] === expected.backlog + 3, 'count(*) after the writes were refused',
        count.rows);

  // Unknown tool: a JSON-RPC error (-32602), thrown by the SDK.
  let unknownError = null;
  try {
    await client.callTool({ name: 'drop_everything', arguments: {} });
  } catch (e) {
    unknownError = e;
  }
  check(unknownError?.code === -32602, 'an unknown tool is a -32602 error', unknownError?.message);
  await client.ping();
  check(true, 'ping');
} catch (e) {
  failures++;
  console.log(`FAIL unexpected exception: ${e?.stack ?? e}`);
} finally {
  clearTimeout(timer);
  await client.close().catch(() => {});
}
if (failures) {
  console.log(`${failures} check(s) failed`);
  process.exit(1);
}
console.log('all checks passed');
