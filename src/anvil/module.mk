$(eval $(call program,anvil,libexec,global util))
