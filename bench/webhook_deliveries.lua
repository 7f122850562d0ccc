-- wrk sends pre-signed Stripe deliveries, each exactly once; a thread stops when its share is answered.
--
--   wrk -t2 -c64 -d300s --latency -s bench/webhook_deliveries.lua URL -- FILE THREADS
--
-- FILE (written by bench/webhooks.py) alternates lines: a Stripe-Signature header value,
-- then the event's compact JSON body. Thread i of THREADS takes every THREADS-th delivery,
-- and stops once all of its own have been answered, so the run measures exactly this set
-- (no repeats, which would only hit ON CONFLICT DO NOTHING and flatter the figure).

local threads = 0

function setup(thread)
   thread:set("index", threads)
   threads = threads + 1
end

function init(args)
   local of = tonumber(args[2])
   deliveries = {}
   local k = 0
   local signature = nil
   for line in io.lines(args[1]) do
      if signature == nil then
         signature = line
      else
         if k % of == index then
            local headers = { ["Stripe-Signature"] = signature, ["Content-Type"] = "application/json" }
            table.insert(deliveries, wrk.format("POST", nil, headers, line))
         end
         k = k + 1
         signature = nil
      end
   end
   sent = 0
   answered = 0
end

function request()
   -- wrk may call request() once before sending (its result unused), so the index wraps
   -- around: a delivery skipped that way goes out after the others. A thread stops once
   -- its share (plus that one) has been answered; the harness also stops wrk as soon as
   -- every delivery is stored. Anything resent is a duplicate (ON CONFLICT DO NOTHING).
   sent = sent + 1
   return deliveries[(sent - 1) % #deliveries + 1]
end

function response(status, headers, body)
   answered = answered + 1
   if answered > #deliveries then
      wrk.thread:stop()
   end
end
