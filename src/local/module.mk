$(eval $(call program,local,libexec,global util))
