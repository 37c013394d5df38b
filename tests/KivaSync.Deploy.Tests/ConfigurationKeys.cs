using System.Collections;
using System.Reflection;

namespace KivaSync.Deploy.Tests;

/// <summary>
/// Walks an environment-variable configuration key ("KivaSync__Tenants__demo__ApiKey") down an options type the way
/// the configuration binder does, so a key that binds to nothing (a typo, a renamed option) is caught.
/// </summary>
internal static class ConfigurationKeys
{
    /// <summary>Null when the key (below the section prefix) reaches a settable leaf property; otherwise why not.</summary>
    public static string? Explain(Type optionsType, string key, string sectionPrefix)
    {
        if (!key.StartsWith(sectionPrefix + "__", StringComparison.OrdinalIgnoreCase))
        {
            return $"{key} is not under {sectionPrefix}";
        }

        var segments = key[(sectionPrefix.Length + 2)..].Split("__");
        var type = optionsType;
        for (var i = 0; i < segments.Length; i++)
        {
            var segment = segments[i];
            if (IsLeaf(type))
            {
                return $"{key}: {string.Join("__", segments[..i])} is a {type.Name} value and has no '{segment}'";
            }

            if (DictionaryValueType(type) is { } valueType)
            {
                type = valueType;
                continue;
            }

            if (ListItemType(type) is { } itemType)
            {
                if (!int.TryParse(segment, out _))
                {
                    return $"{key}: '{segment}' is not a list index";
                }

                type = itemType;
                continue;
            }

            var property = type.GetProperty(segment, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
            if (property is null)
            {
                return $"{key}: {type.Name} has no property '{segment}'";
            }

            type = property.PropertyType;
        }

        return IsLeaf(type) ? null : $"{key} names a section ({type.Name}), not a value";
    }

    private static bool IsLeaf(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        return type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(decimal) || type == typeof(TimeSpan)
            || type == typeof(Uri) || type == typeof(DateTimeOffset) || type == typeof(DateTime) || type == typeof(Guid);
    }

    private static Type? DictionaryValueType(Type type) =>
        type.IsGenericType && type.GetGenericTypeDefinition() is var definition
        && (definition == typeof(Dictionary<,>) || definition == typeof(IDictionary<,>) || definition == typeof(IReadOnlyDictionary<,>))
        && type.GetGenericArguments()[0] == typeof(string)
            ? type.GetGenericArguments()[1]
            : null;

    private static Type? ListItemType(Type type) =>
        type.IsArray ? type.GetElementType()
        : type.IsGenericType && typeof(IEnumerable).IsAssignableFrom(type) && type.GetGenericArguments().Length == 1 ? type.GetGenericArguments()[0]
        : null;
}
