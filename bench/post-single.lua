-- wrk script: one ~150-byte event per POST.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"device_id":"sensor-0042","kind":"telemetry","payload":{"temp_c":21.4,"humidity":48.2,"seq":123456,"note":"ok"},"ts":1748722000000}'
