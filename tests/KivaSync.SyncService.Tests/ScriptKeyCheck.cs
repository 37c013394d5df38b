using System.Runtime.CompilerServices;
using KivaSync.SyncService.State;

namespace KivaSync.SyncService.Tests;

/// <summary>Every Redis script these tests run fails on a key that did not arrive in KEYS (State/Scripts/lib/key_check.lua).</summary>
internal static class ScriptKeyCheck
{
    [ModuleInitializer]
    internal static void TurnOn() => RedisScripts.CheckKeys = true;
}
