-- wrk script: the same 100 readings as post-batch100.lua, as InfluxDB 1.x line protocol
-- (one measurement, device_id as a tag, the payload's fields as fields, ms timestamps). Like
-- the cistern script, every request sends the same body.
wrk.method = "POST"
wrk.headers["Content-Type"] = "text/plain"
local lines = {}
for i = 1, 100 do
  lines[i] = string.format('telemetry,device_id=sensor-%04d temp_c=21.4,humidity=48.2,seq=%di,note="ok" %d', i % 50, i, 1748722000000 + i)
end
wrk.body = table.concat(lines, "\n")
