// shihui-export: placeholder until the recording issue lands the exporter.
print("shihui-export 0.1.0: no recordings format yet")
