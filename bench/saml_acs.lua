-- wrk: POST /saml/acs, every request with the next of a file of signed
-- responses (one "SAMLResponse=..." body per line, read as it goes: the
-- file is too large to hold). The ACS accepts each assertion once, so a
-- file that runs out is an error, not a wrap-around.
-- args: BODIES
local file
local errors = 0

function init(args)
    file = assert(io.open(args[1], "r"))
end

function request()
    local body = file:read("*l")
    if not body then
        io.stderr:write("saml_acs.lua: out of signed responses\n")
        os.exit(3)
    end
    return wrk.format("POST", "/saml/acs",
        { ["Content-Type"] = "application/x-www-form-urlencoded" }, body)
end

function response(status, headers, body)
    if status ~= 303 then
        errors = errors + 1
        if errors < 5 then io.stderr:write("unexpected status " .. status .. ": " .. body .. "\n") end
    end
end
