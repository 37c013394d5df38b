using KivaSync.Shipper;

return await ShipperCommandLine.RunAsync(args);
