-- Every task that failed for good leaves a line in Corral's log naming the device, the action and the CPE's fault.
on("task.fault", function(dev, event)
  log("task", event.data.task_id, event.data.action, "failed on", dev.name, "with", event.data.fault_code or "?", event.data.fault or "")
end)
