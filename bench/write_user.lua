-- wrk: writes that each change something, walking the users of a file of
-- "id userName externalId email" lines from a given line on.
-- args: TOKEN FILE MODE FIRST [GROUP | ACTIVE]
--   active      PATCH /scim/v2/Users/{id}  {"op":"replace","value":{"active":ACTIVE}}
--   add_member  PATCH /scim/v2/Groups/{GROUP}  add one member
-- Past the last line it wraps around (and then writes change nothing).
local token, mode, group, active
local ids = {}
local next_index
local errors = 0

function init(args)
    token, mode, group, active = args[1], args[3], args[5], args[5]
    for line in io.lines(args[2]) do
        ids[#ids + 1] = line:match("^(%S+)")
    end
    next_index = tonumber(args[4])
end

function request()
    local id = ids[(next_index - 1) % #ids + 1]
    next_index = next_index + 1
    local headers = { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/scim+json" }
    if mode == "active" then
        return wrk.format("PATCH", "/scim/v2/Users/" .. id, headers,
            '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],' ..
            '"Operations":[{"op":"replace","value":{"active":' .. active .. '}}]}')
    end
    return wrk.format("PATCH", "/scim/v2/Groups/" .. group, headers,
        '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],' ..
        '"Operations":[{"op":"add","path":"members","value":[{"value":"' .. id .. '"}]}]}')
end

function response(status, headers, body)
    if status ~= 200 and status ~= 204 then
        errors = errors + 1
        if errors < 5 then io.stderr:write("unexpected status " .. status .. ": " .. body:sub(1, 300) .. "\n") end
    end
end
