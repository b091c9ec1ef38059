$(eval $(call program,pipe,libexec,global util))
