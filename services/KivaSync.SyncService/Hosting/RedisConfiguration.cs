using StackExchange.Redis;

namespace KivaSync.SyncService.Hosting;

/// <summary>Accepts both a StackExchange.Redis configuration string and a redis:// or rediss:// URL (REDIS_URL style).</summary>
public static class RedisConfiguration
{
    /// <summary>Parses the configured value.</summary>
    public static ConfigurationOptions Parse(string value)
    {
        if (!value.StartsWith("redis://", StringComparison.OrdinalIgnoreCase) && !value.StartsWith("rediss://", StringComparison.OrdinalIgnoreCase))
        {
            return ConfigurationOptions.Parse(value);
        }

        var uri = new Uri(value);
        var options = new ConfigurationOptions { Ssl = uri.Scheme.Equals("rediss", StringComparison.OrdinalIgnoreCase) };
        options.EndPoints.Add(uri.Host, uri.Port > 0 ? uri.Port : 6379);
        if (!string.IsNullOrEmpty(uri.UserInfo))
        {
            var parts = uri.UserInfo.Split(':', 2);
            if (parts.Length == 2)
            {
                options.User = string.IsNullOrEmpty(parts[0]) ? null : Uri.UnescapeDataString(parts[0]);
                options.Password = Uri.UnescapeDataString(parts[1]);
            }
            else
            {
                options.Password = Uri.UnescapeDataString(parts[0]);
            }
        }

        var db = uri.AbsolutePath.Trim('/');
        if (int.TryParse(db, out var database))
        {
            options.DefaultDatabase = database;
        }

        return options;
    }
}
