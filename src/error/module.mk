$(eval $(call program,error,libexec,global util))
