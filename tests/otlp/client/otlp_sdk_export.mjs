// Exports logs and metrics into a live cistern with the official OpenTelemetry JS SDK and its
// OTLP/HTTP exporters (JSON: *-otlp-http, protobuf: *-otlp-proto), as an application would.
// Driven by tests/otlp/sdk_client_test.cc, which checks the rows in SQLite.
//
//   node otlp_sdk_export.mjs <base url> <json|protobuf> <log records> <device id>
//
// Emits <log records> log records (even ones with an event name) and three metric data points
// (a counter with two attribute sets, a histogram), flushes, and prints every export result as
// JSON. Exit 0 only when every export succeeded (the exporters' own retries included).
import { LoggerProvider, BatchLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { OTLPLogExporter as JsonLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as ProtoLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { OTLPMetricExporter as JsonMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as ProtoMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';

const [base, encoding, countText, device] = process.argv.slice(2);
const count = Number(countText);
const results = [];

// Records each export's result (code 0 = SUCCESS) on the way back to the SDK.
function recorded(exporter, signal) {
  const original = exporter.export.bind(exporter);
  exporter.export = (items, done) =>
    original(items, (result) => {
      results.push({ signal, code: result.code, error: result.error ? String(result.error) : null });
      done(result);
    });
  return exporter;
}

const resource = resourceFromAttributes({ 'device.id': device, 'service.name': 'js-sdk-test' });
const json = encoding === 'json';
const logExporter = recorded(
  json ? new JsonLogExporter({ url: `${base}/v1/logs` }) : new ProtoLogExporter({ url: `${base}/v1/logs` }),
  'logs');
const loggerProvider = new LoggerProvider({
  resource,
  processors: [new BatchLogRecordProcessor({ exporter: logExporter, maxExportBatchSize: 512 })],
});
const logger = loggerProvider.getLogger('cistern-sdk-test', '1.2.3');
for (let i = 0; i < count; i++) {
  logger.emit({
    ...(i % 2 === 0 ? { eventName: 'js.event' } : {}),
    severityNumber: 13,
    severityText: 'WARN',
    body: `message ${i}`,
    attributes: { i, 'test.encoding': encoding },
  });
}
await loggerProvider.forceFlush();
await loggerProvider.shutdown();

const metricExporter = recorded(
  json ? new JsonMetricExporter({ url: `${base}/v1/metrics` }) : new ProtoMetricExporter({ url: `${base}/v1/metrics` }),
  'metrics');
const meterProvider = new MeterProvider({
  resource,
  readers: [new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 60000 })],
});
const meter = meterProvider.getMeter('cistern-sdk-test', '1.2.3');
const counter = meter.createCounter('js.requests', { unit: '1' });
counter.add(5, { route: '/a' });
counter.add(3, { route: '/b' });
meter.createHistogram('js.latency', { unit: 'ms' }).record(12.5);
// Shutdown collects and exports once (a forceFlush before it would export the cumulative
// points a second time).
await meterProvider.shutdown();

console.log(JSON.stringify(results));
const ok = results.length > 0 && results.every((r) => r.code === 0) &&
  results.some((r) => r.signal === 'logs') && results.some((r) => r.signal === 'metrics');
process.exit(ok ? 0 : 1);
