-- wrk: reads of users picked at random from a file of
-- "id userName externalId email" lines. The paths are built once in
-- init(), so wrk spends the same little time per request whatever the
-- mode, and the baseline sends requests of the same shape (same header,
-- same query string) to `return 200`.
-- args: TOKEN FILE MODE
--   id          GET /scim/v2/Users/{id}
--   userName    GET /scim/v2/Users?filter=userName eq "..."
--   externalId  GET /scim/v2/Users?filter=externalId eq "..."
--   email       GET /scim/v2/Users?filter=emails.value eq "..."
--   page        GET /scim/v2/Users?startIndex=1&count=100
--   ping        GET /ping?filter=userName eq "..."   (the baseline)
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
        local id, name, ext, email = line:match("^(%S+) (%S+) (%S+) (%S+)$")
        local by_name = "?filter=" .. urlencode('userName eq "' .. name .. '"')
        local p
        if mode == "id" then
            p = "/scim/v2/Users/" .. id
        elseif mode == "userName" then
            p = "/scim/v2/Users" .. by_name
        elseif mode == "externalId" then
            p = "/scim/v2/Users?filter=" .. urlencode('externalId eq "' .. ext .. '"')
        elseif mode == "email" then
            p = "/scim/v2/Users?filter=" .. urlencode('emails.value eq "' .. email .. '"')
        elseif mode == "page" then
            p = "/scim/v2/Users?startIndex=1&count=100"
        else
            p = "/ping" .. by_name
        end
        paths[#paths + 1] = p
    end
    math.randomseed(os.time())
end

function request()
    return wrk.format("GET", paths[math.random(#paths)], headers)
end

function response(status, headers, body)
    if (mode == "userName" or mode == "externalId" or mode == "email") and status == 200
       and not body:find('"totalResults":1,', 1, true) then
        status = "200 without exactly one result"
    end
    if mode == "page" and status == 200 and not body:find('"itemsPerPage":100,', 1, true) then
        status = "200 without a page of 100"
    end
    if status ~= 200 then
        errors = errors + 1
        if errors < 5 then io.stderr:write("unexpected status " .. status .. ": " .. body:sub(1, 300) .. "\n") end
    end
end
