-- Prepended by RedisScripts in the tests (RedisScripts.CheckKeys), never in production: shadows redis for the rest of
-- the script with one whose call/pcall fail ("KSKEYS ...") when a command names a key that did not arrive in KEYS, so a
-- key reached outside KEYS fails every test that reaches it. Key positions: the first argument, both for RENAME, all
-- for DEL/UNLINK/EXISTS, none for TIME.
local redis = (function(real)
  local declared = {}
  for _, k in ipairs(KEYS) do declared[k] = true end
  local function check(cmd, ...)
    local c = string.upper(cmd)
    if c == 'TIME' then return end
    local last = 1
    if c == 'DEL' or c == 'UNLINK' or c == 'EXISTS' then last = select('#', ...) elseif c == 'RENAME' then last = 2 end
    for i = 1, last do
      local k = select(i, ...)
      if not declared[k] then error('KSKEYS ' .. c .. ' ' .. tostring(k) .. ' did not arrive in KEYS') end
    end
  end
  return setmetatable({
    call = function(cmd, ...) check(cmd, ...) return real.call(cmd, ...) end,
    pcall = function(cmd, ...) check(cmd, ...) return real.pcall(cmd, ...) end,
  }, {__index = real})
end)(redis)
