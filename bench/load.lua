-- wrk script of bench/load.py: one request per line of a data file, each line once in turn.
--
--   wrk ... -s bench/load.lua URL -- DATAFILE THREADS KEYS TOKEN
--
-- DATAFILE: lines "METHOD<TAB>PATH<TAB>BEARER<TAB>BODY" (BODY may be empty). Thread t of THREADS
-- sends lines t+1, t+1+THREADS, ...: consecutive requests name different rows (the file is
-- written so), and no two threads share a line. Past the end it starts again (bench/load.py makes
-- the files longer than a run's requests, and says so when a run went past the end).
-- KEYS "key": a fresh Idempotency-Key on every request, TOKEN-<thread>-<n> (TOKEN is new for
-- every run of a target); anything else: no key.
--
-- Counts, per thread, answers that are not 2xx and 200s whose body says "Success": false (a
-- Legend payment with a refused line), and keeps the first of each as a sample. done() prints one
-- line for bench/load.py:
--   BENCHLOAD requests=.. duration_us=.. connect=.. read=.. write=.. timeout=.. status=..
--             non2xx=.. refused=.. p50_us=.. p99_us=.. mean_us=.. lines=..
-- then the samples, one line each ("BENCHLOAD-SAMPLE ...").

local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  local file, nthreads = args[1], tonumber(args[2])
  with_keys = args[3] == "key"
  token = args[4]
  non2xx, refused, sample, lines = 0, 0, "", 0
  sent = 0
  mine = {}
  local n = 0
  for line in io.lines(file) do
    if n % nthreads == tid then
      local method, path, bearer, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
      local headers = {["Accept"] = "application/json"}
      if bearer ~= "" then headers["Authorization"] = "Bearer " .. bearer end
      if body == "" then
        body = nil
      else
        headers["Content-Type"] = "application/json"
      end
      local entry = {method = method, path = path, headers = headers, body = body}
      if not with_keys then entry.request = wrk.format(method, path, headers, body) end
      table.insert(mine, entry)
    end
    n = n + 1
  end
  lines = #mine
end

function request()
  local entry = mine[(sent % #mine) + 1]
  sent = sent + 1
  if entry.request then return entry.request end
  local headers = {}
  for name, value in pairs(entry.headers) do headers[name] = value end
  headers["Idempotency-Key"] = token .. "-" .. tid .. "-" .. sent
  return wrk.format(entry.method, entry.path, headers, entry.body)
end

local function note(what, status, body)
  if sample == "" then
    sample = what .. " " .. status .. " " .. string.sub((body or ""):gsub("%s+", " "), 1, 300)
  end
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    note("non-2xx", status, body)
  elseif body and body:find('"Success"%s*:%s*false') then
    refused = refused + 1
    note("refused", status, body)
  end
end

function done(summary, latency, requests)
  local bad, refusals, samples, total_lines = 0, 0, {}, 0
  for _, thread in ipairs(threads) do
    bad = bad + thread:get("non2xx")
    refusals = refusals + thread:get("refused")
    total_lines = total_lines + thread:get("lines")
    local s = thread:get("sample")
    if s ~= nil and s ~= "" then table.insert(samples, s) end
  end
  local e = summary.errors
  io.write(string.format(
    "BENCHLOAD requests=%d duration_us=%d connect=%d read=%d write=%d timeout=%d status=%d " ..
    "non2xx=%d refused=%d p50_us=%d p99_us=%d mean_us=%d lines=%d\n",
    summary.requests, summary.duration, e.connect, e.read, e.write, e.timeout, e.status,
    bad, refusals, latency:percentile(50), latency:percentile(99), latency.mean, total_lines))
  for _, s in ipairs(samples) do io.write("BENCHLOAD-SAMPLE " .. s .. "\n") end
end
