-- The contact member encoding ("c:<customer id>", "l:<lower-cased email>"); ContactRef is its C# side.
local function customer_member(id) return K.CustomerPrefix .. id end
local function lead_member(email_lc) return K.LeadPrefix .. email_lc end
local function is_customer(member) return string.sub(member, 1, #K.CustomerPrefix) == K.CustomerPrefix end
local function is_lead(member) return string.sub(member, 1, #K.LeadPrefix) == K.LeadPrefix end
-- The customer id or the lead's email.
local function member_id(member)
  if is_customer(member) then return string.sub(member, #K.CustomerPrefix + 1) end
  return string.sub(member, #K.LeadPrefix + 1)
end
