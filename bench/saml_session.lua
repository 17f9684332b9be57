-- wrk: requests carrying session cookies taken from a file of cookie
-- values, at random among the first COUNT ("random") or each in turn
-- ("sequence"). The baseline sends the same requests to `return 200`.
-- args: FILE COUNT PATH random|sequence
local cookies = {}
local path, mode
local next = 0
local errors = 0

function init(args)
    local count = tonumber(args[2])
    path, mode = args[3], args[4]
    for line in io.lines(args[1]) do
        cookies[#cookies + 1] = { ["Cookie"] = "scim_session=" .. line }
        if #cookies >= count then break end
    end
    math.randomseed(os.time())
end

function request()
    local h
    if mode == "sequence" then
        next = next % #cookies + 1
        h = cookies[next]
    else
        h = cookies[math.random(#cookies)]
    end
    return wrk.format("GET", path, h)
end

function response(status, headers, body)
    if status ~= 200 or body == "" then
        errors = errors + 1
        if errors < 5 then io.stderr:write("unexpected status " .. status .. " body '" .. body .. "'\n") end
    end
end
