-- wrk: POST /Users with a new userName on every request.
-- args: TOKEN PREFIX RUN
local token, prefix, run
local counter = 0
local thread_id = 0
local threads = 0

function setup(thread)
    thread:set("id", threads)
    threads = threads + 1
end

function init(args)
    token, prefix, run = args[1], args[2], args[3]
    thread_id = id or 0
end

function request()
    counter = counter + 1
    local body = string.format(
        '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],' ..
        '"userName":"%s-%s-%d-%d@example.com","externalId":"ext-%s-%d-%d",' ..
        '"name":{"givenName":"Bench","familyName":"User %d"},"active":true,' ..
        '"emails":[{"value":"%s-%s-%d-%d@example.com","type":"work","primary":true}]}',
        prefix, run, thread_id, counter, run, thread_id, counter, counter,
        prefix, run, thread_id, counter)
    return wrk.format("POST", "/scim/v2/Users", {
        ["Authorization"] = "Bearer " .. token,
        ["Content-Type"] = "application/scim+json",
    }, body)
end

function response(status, headers, body)
    if status ~= 201 then
        io.stderr:write("unexpected status " .. status .. ": " .. body .. "\n")
    end
end
