-- wrk script: a JSON array of 100 ~150-byte events per POST.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local events = {}
for i = 1, 100 do
  events[i] = string.format('{"device_id":"sensor-%04d","kind":"telemetry","payload":{"temp_c":21.4,"humidity":48.2,"seq":%d,"note":"ok"},"ts":1748722000000}', i % 50, i)
end
wrk.body = "[" .. table.concat(events, ",") .. "]"
