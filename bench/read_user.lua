-- wrk: reads of users picked at random from a file of "id userName" lines.
-- The paths are built once in init(), so wrk spends the same little time
-- per request whatever the mode, and the baseline sends requests of the
-- same shape (same header, same query string) to `return 200`.
-- args: TOKEN FILE MODE
--   id      GET /scim/v2/Users/{id}
--   filter  GET /scim/v2/Users?filter=userName eq "..."
--   ping    GET /ping?filter=userName eq "..."   (the baseline)
local token, mode
local paths = {}
local errors = 0
local headers

local function urlencode(s)
    return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

function init(args)
    token, mode = args[1], args[3]
    headers = { ["Authorization"] = "Bearer " .. token }
    for line in io.lines(args[2]) do
        local id, name = line:match("^(%S+) (%S+)$")
        local filter = "?filter=" .. urlencode('userName eq "' .. name .. '"')
        if mode == "id" then
            paths[#paths + 1] = "/scim/v2/Users/" .. id
        elseif mode == "filter" then
            paths[#paths + 1] = "/scim/v2/Users" .. filter
        else
            paths[#paths + 1] = "/ping" .. filter
        end
    end
    math.randomseed(os.time())
end

function request()
    return wrk.format("GET", paths[math.random(#paths)], headers)
end

function response(status, headers, body)
    if mode == "filter" and status == 200 and not body:find('"totalResults":1,', 1, true) then
        status = "200 without exactly one result"
    end
    if status ~= 200 then
        errors = errors + 1
        if errors < 5 then io.stderr:write("unexpected status " .. status .. ": " .. body .. "\n") end
    end
end
