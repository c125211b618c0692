"""Login events: record each WorkSpaces Access event, check the allow-list, alert on new networks."""
