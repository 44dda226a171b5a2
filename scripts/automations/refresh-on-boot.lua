-- After a reboot, read an ONT's optical levels again (the profile's KPIs then see fresh values); product class as
-- your devices report it.
on("device.boot", { product_class = "HG8245H" }, function(dev, event)
  dev:refresh("InternetGatewayDevice.WANDevice.1.X_GponInterafceConfig.")
end)
