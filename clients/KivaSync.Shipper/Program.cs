using KivaSync.Shipper;
using Microsoft.Extensions.Hosting;

await ShipperHost.CreateBuilder(args).Build().RunAsync();
