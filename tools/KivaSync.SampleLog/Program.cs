// kivasync-samplelog: writes a deterministic sample system log (see SampleLogGenerator).
return KivaSync.SampleLog.SampleLogCommand.Run(args, Console.Out, Console.Error);
