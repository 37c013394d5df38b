using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(KivaSync.Bench.Parser.ParseBenchmarks).Assembly).Run(args);
